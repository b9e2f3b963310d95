// Checkout form: submitting shows a confirmation instead of leaving the page, so the session goes
// on. The password is never shown or sent anywhere.
(function () {
  'use strict';
  var form = document.getElementById('checkout');
  var status = document.getElementById('form-status');
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var data = new FormData(form);
    status.textContent = 'Order placed for ' + (data.get('name') || 'a guest') + ', delivery: ' +
      data.get('delivery') + ', quantity ' + data.get('qty') + '.';
  });
  form.addEventListener('reset', function () { status.textContent = 'Form reset.'; });
})();
