import { LIST_CSS, themeCss } from './theme.js';

/** The texts the widget shows before and instead of headlines. */
export interface WidgetTexts {
  readonly label: string;
  readonly empty: string;
  readonly error: string;
}

const WIDGET_CSS = `:host{display:block}${themeCss('section')}`
  + 'section{font:1rem/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg);'
  + 'border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem}'
  + LIST_CSS;

/**
 * The source of /embed.js: plain ES2017 in one IIFE, no dependency and no build step. Every
 * `<div data-herold-headlines>` becomes a list of headlines in its own shadow root, fetched from
 * Herold's JSON API without credentials. Data only ever reaches the page as textContent or a
 * checked href; the only global is `window.HeroldHeadlines`.
 */
export function widgetSource(baseUrl: string, texts: WidgetTexts): string {
  // JSON is valid JS; U+2028/U+2029 are escaped for engines older than ES2019.
  const literal = (value: unknown) => JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `/*! Herold headlines widget */
(function () {
  'use strict';
  if (typeof window === 'undefined' || typeof document === 'undefined') return;
  if (window.HeroldHeadlines) {
    window.HeroldHeadlines.renderAll();
    return;
  }
  var BASE = ${literal(baseUrl)};
  var TEXT = ${literal(texts)};
  var CSS = ${literal(WIDGET_CSS)};
  var PARAMS = ['topic', 'department', 'q', 'limit', 'theme'];
  var THEMES = ['light', 'dark', 'auto'];
  var rendered = new WeakSet();
  var tickets = new WeakMap();

  function node(tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = String(text);
    return element;
  }

  function queryOf(element) {
    var parts = [];
    PARAMS.forEach(function (name) {
      var value = element.getAttribute('data-' + name);
      if (value !== null && value.trim() !== '') {
        parts.push(encodeURIComponent(name) + '=' + encodeURIComponent(value.trim()));
      }
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  function clear(root) {
    while (root.firstChild) root.removeChild(root.firstChild);
  }

  function finish(section) {
    section.removeAttribute('aria-busy');
  }

  function note(section, text, isError) {
    var paragraph = node('p', isError ? 'note error' : 'note', text);
    if (isError) paragraph.setAttribute('role', 'status');
    section.appendChild(paragraph);
    finish(section);
  }

  function headline(item) {
    var li = node('li');
    var link = node('a', null, item.title);
    var href = String(item.url || '');
    // Only links to Herold's own pages: nothing in the data can become a javascript: URL.
    if (href.indexOf(BASE + '/') === 0) link.setAttribute('href', href);
    li.appendChild(link);
    if (item.published_at) {
      var time = node('time', null, item.date_label || item.published_at);
      time.setAttribute('datetime', String(item.published_at));
      li.appendChild(time);
    }
    return li;
  }

  function render(element) {
    if (!element || typeof element.attachShadow !== 'function') return Promise.resolve(false);
    var root = element.shadowRoot || element.attachShadow({ mode: 'open' });
    rendered.add(element);
    var ticket = (tickets.get(element) || 0) + 1;
    tickets.set(element, ticket);
    var theme = element.getAttribute('data-theme');
    var ownTitle = element.getAttribute('data-title');
    var section = node('section');
    section.setAttribute('data-theme', THEMES.indexOf(theme) === -1 ? 'auto' : theme);
    section.setAttribute('aria-labelledby', 'herold-title');
    section.setAttribute('aria-busy', 'true');
    var heading = node('h2', 'title', ownTitle || TEXT.label);
    heading.setAttribute('id', 'herold-title');
    section.appendChild(heading);
    clear(root);
    root.appendChild(node('style', null, CSS));
    root.appendChild(section);
    var current = function () { return tickets.get(element) === ticket; };
    return fetch(BASE + '/api/v1/headlines' + queryOf(element), { credentials: 'omit', mode: 'cors' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (data) {
        if (!current()) return false;
        if (!ownTitle && data && typeof data.title === 'string') heading.textContent = data.title;
        var items = data && Array.isArray(data.items) ? data.items : [];
        if (!items.length) {
          note(section, TEXT.empty, false);
          return true;
        }
        var list = node('ul');
        items.forEach(function (item) { list.appendChild(headline(item)); });
        section.appendChild(list);
        finish(section);
        return true;
      })
      .catch(function () {
        if (current()) note(section, TEXT.error, true);
        return false;
      });
  }

  function renderAll() {
    var elements = document.querySelectorAll('[data-herold-headlines]');
    var done = [];
    for (var index = 0; index < elements.length; index++) {
      if (!rendered.has(elements[index])) done.push(render(elements[index]));
    }
    return Promise.all(done);
  }

  window.HeroldHeadlines = Object.freeze({ render: render, renderAll: renderAll, base: BASE });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', renderAll);
  else renderAll();
})();
`;
}
