"""The catalogues stay honest and in step with the code.

- Every Chinese literal in our Python code goes through gettext (the shop speaks one language
  per deployment, so a bare Chinese string would stay Chinese on an English site), and our
  templates write Chinese only inside translate tags.
- The English catalogue has every msgid `makemessages` finds in our sources, each translated and
  none fuzzy.
- Every committed .mo says what its .po says: nobody needs gettext to run the shop, so a .po
  edited without `make messages` must fail here. Read with Python's own gettext, no msgfmt.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from utils.catalogues import MAKEMESSAGES_OPTIONS, Entry, read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
SOURCES = ("apps", "utils", "libs")

# Which positional arguments of each gettext-family function are msgids.
MSGID_ARGS = {
    "_": (0,),
    "gettext": (0,),
    "gettext_lazy": (0,),
    "gettext_noop": (0,),
    "ngettext": (0, 1),
    "ngettext_lazy": (0, 1),
    "pgettext": (1,),
    "pgettext_lazy": (1,),
    "npgettext": (1, 2),
    "npgettext_lazy": (1, 2),
}
# Chinese text that is not a message of ours, with the reason. Keep it short.
NOT_MESSAGES_FILES = {
    "apps/course/management/commands/load_demo.py": "the demo catalogue: data for the database",
    "apps/course/demo_media.py": "the demo banners' titles: data for the database",
    "apps/course/openapi.py": "API docs: examples quoting today's responses",
    "apps/order/openapi.py": "API docs: examples quoting today's responses",
    "apps/coupon/openapi.py": "API docs: examples quoting today's responses",
    "apps/user/openapi.py": "API docs: examples quoting today's responses",
    "apps/promotion/openapi.py": "API docs: examples quoting today's responses",
    # The local stand-in for Alipay (development only) answers with Alipay's own words.
    "apps/cashier/api.py": "Alipay's gateway messages (sub_msg), as Alipay words them",
    "apps/cashier/protocol.py": "Alipay's gateway messages (sub_msg), as Alipay words them",
    "apps/cashier/services.py": "Alipay's gateway messages (sub_msg), as Alipay words them",
    "apps/cashier/views.py": "Alipay's cashier page, as Alipay words it",
}
NOT_MESSAGES = {
    ("apps/home/views.py", "成功"): "API docs: an example quoting today's response",
    ("apps/home/views.py", "Python 全栈开发"): "API docs: an example banner title",
    ("apps/home/views.py", "首页 › 轮播图"): "API docs (English): names the admin's page",
    ("apps/order/services/placement.py", "、"): "joins course names into the Alipay subject",
    ("apps/order/services/refunds.py", "重复购买自动退款"): "a refund's stored reason (data)",
    ("apps/order/services/refunds.py", "重复支付自动退款"): "a refund's stored reason (data)",
    ("apps/order/services/refunds.py", "支付宝后台退款"): "a refund's stored reason (data)",
    ("libs/iPay/client.py", "支付宝支付未配置"): "for developers: callers answer in our words",
}
# Templates that are not ours to translate: the stand-in's pages show Alipay's cashier.
NOT_MESSAGES_TEMPLATES = {"apps/cashier/templates"}
TRANSLATE_TAGS = re.compile(
    r"\{%\s*(?:translate|trans)\s.*?%\}"
    r"|\{%\s*blocktrans(?:late)?\b.*?%\}.*?\{%\s*endblocktrans(?:late)?\s*%\}"
    r"|\{#.*?#\}",
    re.S,
)


def python_sources() -> list[Path]:
    return [
        path
        for top in SOURCES
        for path in sorted((ROOT / top).rglob("*.py"))
        if "migrations" not in path.parts and "tests" not in path.parts
    ]


def bare_chinese(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each string literal with a Chinese character that is neither a msgid of
    a gettext-family call nor a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    marked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            for index in MSGID_ARGS.get(name, ()):
                if index < len(node.args):
                    marked.add(id(node.args[index]))
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            marked.add(id(body[0].value))  # a docstring, for developers
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CJK.search(node.value)
        and id(node) not in marked
    )


def not_a_message(relative: str, text: str) -> bool:
    if relative in NOT_MESSAGES_FILES:
        return True
    return any(path == relative and part in text for path, part in NOT_MESSAGES)


def test_every_chinese_literal_in_our_code_goes_through_gettext():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in python_sources()
        for line, text in bare_chinese(path)
        if not not_a_message(str(path.relative_to(ROOT)), text)
    ]
    assert not found, "wrap these in gettext (or say in NOT_MESSAGES why not):\n" + "\n".join(found)


def test_the_check_finds_bare_chinese_and_accepts_marked_text(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""模块说明"""\n'
        "from django.utils.translation import gettext as _, ngettext\n"
        'A = _("订单不存在")\n'
        'B = ngettext("%(n)d 单", "%(n)d 单", 2)\n'
        'C = "订单已取消"\n'
        'D = _(f"订单{A}")\n'
        'E = {"msg": "成功"}\n',
        encoding="utf-8",
    )
    assert [line for line, _text in bare_chinese(sample)] == [5, 6, 7]


def test_the_allow_list_names_only_text_that_is_still_there():
    """An entry whose text left the code must leave the list too, or it would hide a new one."""
    for relative in NOT_MESSAGES_FILES:
        assert bare_chinese(ROOT / relative), relative
    for relative, part in NOT_MESSAGES:
        assert any(part in text for _line, text in bare_chinese(ROOT / relative)), (relative, part)


def rebinds_gettext(path: Path) -> list[int]:
    """Lines where a module that imports a gettext function as `_` assigns `_` (e.g.
    `_, created = ...`): in that function `_("...")` would call the value instead."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imports_underscore = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "django.utils.translation"
        and any(alias.asname == "_" for alias in node.names)
        for node in ast.walk(tree)
    )
    if not imports_underscore:
        return []
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store)
    )


def test_no_module_that_translates_with_underscore_also_uses_it_as_a_throwaway_name():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in python_sources()
        for line in rebinds_gettext(path)
    ]
    assert not found, "name the throwaway value, `_` is gettext here:\n" + "\n".join(found)


def test_our_templates_write_chinese_only_inside_translate_tags():
    found = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("templates/**/*.html")):
            relative = str(path.relative_to(ROOT))
            if any(relative.startswith(skip) for skip in NOT_MESSAGES_TEMPLATES):
                continue
            rest = TRANSLATE_TAGS.sub("", path.read_text(encoding="utf-8"))
            found += [
                f"{relative}: {line.strip()}" for line in rest.splitlines() if CJK.search(line)
            ]
    assert not found, "\n".join(found)


# --- The English catalogue against the sources -------------------------------------------------


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[tuple[str | None, str], Entry]:
    """What `make messages` would extract for English now, from a copy of our sources (run on
    the checkout itself, makemessages would write into locale/)."""
    work = tmp_path_factory.mktemp("extract")
    for top in SOURCES:
        shutil.copytree(
            ROOT / top, work / top, ignore=shutil.ignore_patterns("__pycache__", "*.mp4")
        )
    before = Path.cwd()
    os.chdir(work)
    try:
        with override_settings(LOCALE_PATHS=[work / "locale"]):
            call_command("makemessages", locale=["en"], verbosity=0, **MAKEMESSAGES_OPTIONS)
    finally:
        os.chdir(before)
    return {(e.msgctxt, e.msgid): e for e in read_po(work / "locale/en/LC_MESSAGES/django.po")}


def english() -> dict[tuple[str | None, str], Entry]:
    return {(e.msgctxt, e.msgid): e for e in read_po(LOCALE / "en/LC_MESSAGES/django.po")}


def test_the_english_catalogue_has_every_message_our_code_marks(extracted):
    assert len(extracted) > 300  # the extraction did run over our sources
    missing = sorted(msgid for key, msgid in ((k, k[1]) for k in extracted) if key not in english())
    assert not missing, "run `make messages` and translate:\n" + "\n".join(missing)


def test_the_english_catalogue_keeps_no_message_our_code_dropped(extracted):
    stale = sorted(msgid for key, msgid in ((k, k[1]) for k in english()) if key not in extracted)
    assert not stale, "run `make messages` to drop:\n" + "\n".join(stale)


def test_the_english_catalogue_uses_the_plural_forms_our_code_asks_for(extracted):
    ours = english()
    assert {k: e.msgid_plural for k, e in extracted.items()} == {
        k: ours[k].msgid_plural for k in extracted if k in ours
    }


def test_every_english_entry_is_translated_and_none_is_fuzzy():
    todo = [e.msgid for e in english().values() if not e.translated]
    assert not todo, "\n".join(todo)


def test_english_entries_keep_their_placeholders():
    """A msgstr that drops or renames %(name)s would raise KeyError, or lose the value."""
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\}")
    wrong = [
        e.msgid
        for e in english().values()
        for text in e.msgstr
        if sorted(placeholder.findall(text)) != sorted(placeholder.findall(e.msgid))
    ]
    assert not wrong, "\n".join(wrong)


# --- Compiled catalogues against their sources -------------------------------------------------

CATALOGUES = [("zh_Hans", "django"), ("zh_Hans", "djangojs"), ("en", "django")]


def compiled_messages(entries: list[Entry], compiled: gettext.GNUTranslations) -> list[str]:
    """Each entry as the compiled catalogue answers it: per plural form for plurals."""
    answers = []
    for e in entries:
        if e.msgid_plural is None:
            text = compiled.pgettext(e.msgctxt, e.msgid) if e.msgctxt else compiled.gettext(e.msgid)
            answers.append(text)
        else:
            for n in range(len(e.msgstr)):
                count = next(c for c in range(1, 100) if compiled.plural(c) == n)
                answers.append(compiled.ngettext(e.msgid, e.msgid_plural, count))
    return answers


@pytest.mark.parametrize(("language", "domain"), CATALOGUES)
def test_the_compiled_catalogue_matches_its_source(language, domain):
    entries = [e for e in read_po(LOCALE / language / "LC_MESSAGES" / f"{domain}.po")]
    with (LOCALE / language / "LC_MESSAGES" / f"{domain}.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)

    assert entries
    assert compiled_messages(entries, compiled) == [text for e in entries for text in e.msgstr]
    # ...and holds nothing the source dropped.
    in_mo = {key if isinstance(key, str) else key[0] for key in compiled._catalog} - {""}
    in_po = {f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt else e.msgid for e in entries}
    assert in_mo == in_po


def test_the_po_reader_reads_plurals_contexts_flags_and_long_lines(tmp_path):
    po = tmp_path / "sample.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#: a.py\n#, python-format\nmsgid "%(n)d 单"\nmsgid_plural "%(n)d 单"\n'
        'msgstr[0] "%(n)d order"\nmsgstr[1] "%(n)d orders"\n\n'
        'msgctxt "button"\nmsgid "取消"\nmsgstr "Cancel"\n\n'
        '#, fuzzy\nmsgid "退款"\nmsgstr "Refund"\n\n'
        'msgid ""\n"长的"\n"消息"\nmsgstr ""\n\n'
        '#~ msgid "旧的"\n#~ msgstr "Old"\n',
        encoding="utf-8",
    )
    entries = read_po(po)
    assert [(e.msgctxt, e.msgid, e.msgid_plural, e.msgstr) for e in entries] == [
        (None, "%(n)d 单", "%(n)d 单", ["%(n)d order", "%(n)d orders"]),
        ("button", "取消", None, ["Cancel"]),
        (None, "退款", None, ["Refund"]),
        (None, "长的消息", None, [""]),
    ]
    assert [e.translated for e in entries] == [True, True, False, False]
