// Live list: bursts of list mutations (add, remove, move, relabel, class toggle) for testing how
// fast changes reach the agent. Seeded, so the same buttons give the same list on every run.
// `window.demoBurst(count, chunks)` does the same as the buttons and resolves when done.
(function () {
  'use strict';
  var list = document.getElementById('burst-list');
  var status = document.getElementById('burst-status');
  var seed, nextId, bursts, changes;

  function random() { // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    var t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  function pick(n) { return Math.floor(random() * n); }
  function item() {
    var li = document.createElement('li');
    li.id = 'item-' + nextId;
    li.textContent = 'Item ' + nextId;
    nextId += 1;
    return li;
  }
  function reset() {
    seed = 42; nextId = 1; bursts = 0; changes = 0;
    list.textContent = '';
    for (var i = 0; i < 200; i++) list.appendChild(item());
    report('Reset: 200 items.');
  }
  function report(text) {
    status.setAttribute('data-done', String(bursts));
    status.textContent = text;
  }
  // One change; the list stays between 50 and 500 items.
  function change() {
    var items = list.children;
    var n = items.length;
    var op = pick(5);
    if (op === 0 && n > 450) op = 1;
    if (op === 1 && n < 50) op = 0;
    if (op === 0) {
      list.insertBefore(item(), items[pick(n + 1)] || null);
    } else if (op === 1) {
      items[pick(n)].remove();
    } else if (op === 2) {
      list.insertBefore(items[pick(n)], items[pick(n)] || null);
    } else if (op === 3) {
      var li = items[pick(n)];
      li.textContent = li.textContent.split(' ·')[0] + ' · v' + pick(1000);
    } else {
      items[pick(n)].classList.toggle('hot');
    }
  }
  function nextTask() { return new Promise(function (resolve) { setTimeout(resolve, 0); }); }

  window.demoBurst = async function (count, chunks) {
    chunks = chunks || 1;
    for (var c = 0; c < chunks; c++) {
      if (c > 0) await nextTask(); // a separate task, so MutationObserver reports each chunk alone
      for (var i = 0; i < count; i++) change();
      changes += count;
    }
    bursts += 1;
    report('Done: ' + bursts + (bursts === 1 ? ' burst, ' : ' bursts, ') + changes + ' changes, ' +
      list.children.length + ' items.');
  };

  document.querySelectorAll('button[data-count]').forEach(function (b) {
    b.addEventListener('click', function () {
      window.demoBurst(Number(b.getAttribute('data-count')), Number(b.getAttribute('data-chunks')));
    });
  });
  document.getElementById('burst-reset').addEventListener('click', reset);
  reset();
})();
