// Live countdowns for running clocks: the page works without this; it only keeps the
// time left current between reloads. No data is fetched and nothing is sent.
(function () {
  "use strict";
  function two(n) { return n < 10 ? "0" + n : String(n); }
  function span(seconds) {
    var s = Math.abs(Math.round(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + "h " : "") + two(m) + "m " + two(r) + "s";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) { return; }
      var left = (due - now) / 1000;
      el.textContent = left >= 0 ? span(left) + " " + el.dataset.left : span(left) + " " + el.dataset.late;
      el.classList.toggle("late", left < 0);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
