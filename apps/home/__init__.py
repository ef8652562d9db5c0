"""The home page's content staff manage: the banner carousel."""
