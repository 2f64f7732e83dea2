// The e-card flips when tapped (or with Enter/Space); without this file both faces show.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    var card = document.getElementById("ec-card");
    if (!card) return;
    var hint = document.querySelector(".ec-hint");
    if (hint) hint.hidden = false;
    card.setAttribute("role", "button");
    card.setAttribute("tabindex", "0");
    card.setAttribute("aria-pressed", "false");
    function flip() {
      var on = card.classList.toggle("flipped");
      card.setAttribute("aria-pressed", on ? "true" : "false");
    }
    card.addEventListener("click", flip);
    card.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); flip(); }
    });
  });
})();
