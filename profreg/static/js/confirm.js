/* profreg: what inline event handlers used to do, as a script file the Content-Security-Policy allows
   (issue 18: no 'unsafe-inline' scripts).
   - [data-confirm]: a click asks the question first; "Cancel" stops the click (and its form's submit).
   - [data-model-action]: runs Flask-Admin's list action (its actions.js) as its onclick did.
   - [data-add-inline]: adds a row to a Flask-Admin inline list (its form.js), as its onclick did.
   - a[href^="javascript:"] (Flask-Admin's menus and filter items): never followed; their own handlers
     (Bootstrap, Flask-Admin) still run. Following one would be blocked by the CSP anyway. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest) { return; }
    var asking = target.closest("[data-confirm]");
    if (asking && !window.confirm(asking.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    var action = target.closest("[data-model-action]");  // Flask-Admin's "With selected" menu
    if (action && window.modelActions) {
      event.preventDefault();
      window.modelActions.execute(action.getAttribute("data-model-action"));
      return;
    }
    var adding = target.closest("[data-add-inline]");  // Flask-Admin's "Add …" of an inline list
    if (adding && window.faForm) {
      event.preventDefault();
      window.faForm.addInlineField(adding, adding.getAttribute("data-add-inline"));
      return;
    }
    var link = target.closest("a[href^='javascript:']");
    if (link) { event.preventDefault(); }
  }, true);
})();
