// The tab's title: the page's name, then the shop's. Routes name themselves (router meta);
// pages that load a name (a course, a teacher) set it again.
export const SITE_NAME = '路飞学城'

export function setTitle(name) {
  document.title = name ? `${name} - ${SITE_NAME}` : SITE_NAME
}
