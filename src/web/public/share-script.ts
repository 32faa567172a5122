import { contentHash } from '../assets/index.js';

/**
 * The one script of the supporter pages: the share links' "copy link" button. Without it (or
 * without the Clipboard API) the button stays hidden and the link stays readable and selectable
 * in its read-only field. Served from this origin (CSP script-src 'self'), no inline code.
 */
const source = `(function () {
  var buttons = document.querySelectorAll('button[data-copy]');
  for (var i = 0; i < buttons.length; i++) {
    (function (button) {
      var field = document.getElementById(button.getAttribute('data-copy'));
      var status = document.getElementById(button.getAttribute('data-status'));
      if (!field || !status || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener('click', function () {
        navigator.clipboard.writeText(field.value).then(
          function () { status.textContent = button.getAttribute('data-copied'); },
          function () { field.select(); status.textContent = button.getAttribute('data-failed'); }
        );
      });
    })(buttons[i]);
  }
})();
`;

export const shareScript = { path: `/assets/share.${contentHash(source)}.js`, body: source } as const;
