// Trail map: attribute changes and element insertion inside inline SVG (SVG namespace).
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var trail = document.getElementById('trail');
  var button = document.getElementById('recolour');
  document.getElementById('recolour').addEventListener('click', function () {
    var closed = trail.getAttribute('stroke') === '#8c2f39';
    trail.setAttribute('stroke', closed ? '#e07a1f' : '#8c2f39');
    if (closed) trail.removeAttribute('data-closed'); else trail.setAttribute('data-closed', 'yes');
    button.textContent = closed ? 'Mark the trail as closed' : 'Mark the trail as open';
  });
  var huts = document.getElementById('huts');
  document.getElementById('add-hut').addEventListener('click', function () {
    var n = huts.children.length;
    var rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('x', String(240 + n * 18));
    rect.setAttribute('y', String(150 - n * 6));
    rect.setAttribute('width', '10');
    rect.setAttribute('height', '10');
    rect.setAttribute('fill', '#1d2433');
    huts.appendChild(rect);
  });
})();
