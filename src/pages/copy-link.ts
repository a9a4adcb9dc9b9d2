/**
 * The one script of the release page, served same-origin at /assets/copy-link.js (the CSP allows no
 * inline script). Without it the page shows the link in a read-only field; with it the hidden
 * "copy" button appears, copies the link and says so in the live region next to it.
 */
export const COPY_LINK_SCRIPT = `'use strict';
(function () {
  var buttons = document.querySelectorAll('button[data-copy-link]');
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute('data-copy-link'));
    var status = button.parentNode.querySelector('[role="status"]');
    if (!field || !status) return;
    function say(text) {
      // Emptied first so that the same words are announced again on a second click.
      status.textContent = '';
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
    function fallback() {
      field.focus();
      field.select();
      var copied = false;
      try { copied = document.execCommand('copy'); } catch (error) { copied = false; }
      say(button.getAttribute(copied ? 'data-copied' : 'data-failed'));
    }
    button.addEventListener('click', function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () {
          say(button.getAttribute('data-copied'));
        }, fallback);
      } else {
        fallback();
      }
    });
    button.hidden = false;
  });
})();
`;
