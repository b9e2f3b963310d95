// A bundled app's output, reduced: it renders into #app and routes on the hash.
const app = document.getElementById('app');
app.innerHTML = `<section class="todoapp">
  <input class="new-todo" id="new" placeholder="What needs to be done?">
  <ul class="todo-list"><li><label>Buy milk</label><button class="destroy">×</button></li>
    <li id="second"><label>Walk the dog</label><button class="destroy">×</button></li></ul>
  <ul class="filters"><li><a href="#/" class="selected">All</a></li>
    <li><a href="#/active" id="active">Active</a></li><li><a href="#/completed">Completed</a></li></ul>
</section>`;
window.addEventListener('hashchange', () => {
  for (const a of app.querySelectorAll('.filters a')) {
    a.classList.toggle('selected', a.getAttribute('href') === location.hash);
  }
});
