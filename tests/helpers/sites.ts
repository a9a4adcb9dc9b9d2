import type { HtmlSiteSettings } from '../../src/ingest/html-site.js';

/** Where the fixture sites of tests/fixtures/sites believe they live. */
export const SITE_ORIGINS = { rathaus: 'https://rathaus.lindenau.example', kreis: 'https://www.kreis-lindenau.example' } as const;

/** The city's site: an old CMS, the date and issuer in running text, noise inside the article. */
export const RATHAUS: HtmlSiteSettings = {
  listing_url: `${SITE_ORIGINS.rathaus}/index.html`,
  link_selector: '.liste a',
  next_selector: '.blaettern a:contains("Weiter")',
  title_selector: 'article.pressemitteilung h1',
  subtitle_selector: 'article.pressemitteilung p.teaser',
  body_selector: 'article.pressemitteilung',
  remove_selectors: ['a.sprungmarke', 'article.pressemitteilung > h1', 'p.teaser', 'div.share', 'div.herausgeber', 'div.kontakt'],
  date_selector: 'div.herausgeber p:first-child',
  date_format: "'Herausgegeben am' dd.MM.yyyy 'von:'",
  image_selector: 'article.pressemitteilung figure img',
  caption_selector: 'article.pressemitteilung figcaption',
  credit_selector: 'article.pressemitteilung figcaption .credit',
  issuer_selector: 'div.herausgeber p:not(:first-child)',
  contact_selector: 'div.kontakt p',
  attachment_selector: 'article.pressemitteilung a[href$=".pdf"]',
};

/** The district's site: a TYPO3-like CMS with `<base href>`, `<time>`, lazy images, tags and a contact aside. */
export const KREIS: HtmlSiteSettings = {
  listing_url: `${SITE_ORIGINS.kreis}/presse/index.html`,
  link_selector: 'ul.news-list a.news-link',
  next_selector: 'nav.pagination a[rel="next"]',
  title_selector: '#content h2.headline',
  subtitle_selector: '#content div.subline',
  body_selector: '#content div.text',
  remove_selectors: ['div.news-share'],
  date_selector: '#content time',
  date_attribute: 'datetime',
  date_format: 'd. MMMM yyyy',
  image_selector: '#content div.text img.image',
  caption_selector: '#content div.text .image-caption',
  credit_selector: '#content p.bildnachweis',
  contact_selector: 'aside.pressekontakt',
  topics_selector: '#content ul.tags li',
  attachment_selector: '#content a.download',
};
