// Small progressive enhancements; every page works without them.
document.addEventListener("click", function (event) {
  const target = event.target.closest("[data-confirm]");
  if (target && !window.confirm(target.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
document.addEventListener("change", function (event) {
  const target = event.target.closest("[data-autosubmit]");
  if (target && target.form) {
    target.form.requestSubmit();
  }
});
