/* global document */
// The console's own script (served from /console/assets, like htmx): when a form sent through htmx
// cannot reach the server, or the server fails, the page says so in the form's status line and
// leaves everything typed, chosen and attached in place, to send again.
(function () {
  'use strict';
  function say(event, text) {
    var form = event.detail && event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest('form') : null;
    var status = form ? form.querySelector('.form-status') : null;
    if (!status) return;
    var line = document.createElement('p');
    line.className = 'error';
    line.setAttribute('role', 'alert');
    line.textContent = text;
    status.replaceChildren(line);
  }
  document.addEventListener('htmx:sendError', function (event) {
    say(event, 'Not sent: there is no connection to Concierge. What you entered is still here; send it again when you have signal.');
  });
  document.addEventListener('htmx:responseError', function (event) {
    var code = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    if (code === 422) return;
    say(event, 'Not done: Concierge answered ' + code + '. What you entered is still here; try again, or reload the page.');
  });
})();
