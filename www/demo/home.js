// Demo shop home page: a product list that keeps changing, so an agent always has live changes to
// follow. Deterministic (seeded) so test runs are comparable; `?still=1` stops the timer.
(function () {
  'use strict';
  var list = document.getElementById('products');
  var cart = document.getElementById('cart-count');
  var seed = 7;
  function random() { // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    var t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  function euros(cents) { return '€' + (cents / 100).toFixed(2); }

  var featured = 0;
  function feature() {
    var items = list.querySelectorAll('.product');
    items.forEach(function (li) {
      li.classList.remove('featured');
      var badge = li.querySelector('.badge');
      if (badge) badge.remove();
    });
    featured = (featured + 1) % items.length;
    var li = items[featured];
    li.classList.add('featured');
    var badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = 'Deal of the moment';
    li.appendChild(badge);
    var price = li.querySelector('.price');
    var cents = Number(price.getAttribute('data-cents'));
    var next = Math.max(500, cents + Math.round((random() - 0.5) * 2000));
    price.setAttribute('data-cents', String(next));
    price.textContent = euros(next);
  }

  document.getElementById('shuffle').addEventListener('click', function () {
    var items = Array.prototype.slice.call(list.children);
    for (var i = items.length - 1; i > 0; i--) {
      var j = Math.floor(random() * (i + 1));
      var tmp = items[i]; items[i] = items[j]; items[j] = tmp;
    }
    items.forEach(function (li) { list.appendChild(li); });
  });

  list.addEventListener('click', function (ev) {
    if (!ev.target.classList || !ev.target.classList.contains('add')) return;
    var n = Number(cart.getAttribute('data-count')) + 1;
    cart.setAttribute('data-count', String(n));
    cart.textContent = n + (n === 1 ? ' item' : ' items');
  });

  if (!/[?&]still=1/.test(location.search)) {
    setInterval(feature, 4000);
  }
})();
