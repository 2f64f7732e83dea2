// The e-card flips when tapped or with its button; without this file both faces show.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    var card = document.getElementById("ec-card");
    var button = document.getElementById("ec-flip");
    if (!card || !button) return;
    var hint = document.querySelector(".ec-hint");
    if (hint) hint.hidden = false;
    button.hidden = false;
    function flip() {
      var on = card.classList.toggle("flipped");
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
    card.addEventListener("click", function (e) {
      if (e.target.closest("a")) return; // the booking line still dials
      flip();
    });
    button.addEventListener("click", flip);
  });
})();
