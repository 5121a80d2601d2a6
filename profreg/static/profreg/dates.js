/* The panel's date inputs (profreg/admin/dateinput.py): a flatpickr calendar in the page's language,
 * Monday first, on every input with data-role="datepicker" (forms, inline record forms added later,
 * list filters) and "daterangepicker" (the filters' "between").
 *
 * - A form input holds dd.mm.yyyy (data-date-format="DD.MM.YYYY"): the text the person types, also
 *   d.m.yyyy and ISO yyyy-mm-dd; a complete date closes the calendar at once.
 * - A filter input holds ISO (data-date-format="YYYY-MM-DD", Flask-Admin's filters): the person sees
 *   and types dd.mm.yyyy in a second input (flatpickr's altInput), the URL keeps ISO.
 * - The month and weekday names come from the page (#profreg-calendar, a JSON data block the layout
 *   fills from Babel). No inline script: the panel runs under a Content-Security-Policy.
 */
(function () {
  "use strict";

  var ISO = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$/;
  var DOTTED = /^\s*(\d{1,2})[./](\d{1,2})[./](\d{4})\s*$/;
  var RANGE_SEPARATOR = " to ";  // Flask-Admin's "between" filters split their value on it

  function make(y, m, d) {
    var dt = new Date(y, m - 1, d);
    var ok = dt.getFullYear() === y && dt.getMonth() === m - 1 && dt.getDate() === d;
    return ok ? dt : null;
  }

  function parse(text) {            // profreg.dates.parse_date
    var m = DOTTED.exec(text || "");
    if (m) { return make(+m[3], +m[2], +m[1]); }
    m = ISO.exec(text || "");
    if (m) { return make(+m[1], +m[2], +m[3]); }
    return null;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function dotted(d) { return pad(d.getDate()) + "." + pad(d.getMonth() + 1) + "." + d.getFullYear(); }
  function iso(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }

  var localeData = null;
  function calendarLocale() {
    if (localeData === null) {
      var el = document.getElementById("profreg-calendar");
      localeData = el ? JSON.parse(el.textContent) : {firstDayOfWeek: 1};
    }
    return localeData;
  }

  function common(extra) {
    var options = {
      locale: calendarLocale(),
      allowInput: true,
      disableMobile: true,           // never the phone's own picker: same format everywhere
      position: "auto",              // above the input when there is no room below
      parseDate: function (text) { return parse(text) || undefined; },
      formatDate: function (d, format) { return format === "Y-m-d" ? iso(d) : dotted(d); }
    };
    for (var k in extra) { if (Object.prototype.hasOwnProperty.call(extra, k)) { options[k] = extra[k]; } }
    return options;
  }

  function closeOnTyping(fp, typed) {
    // a complete, valid date typed (or pasted, or filled by the IIN script) closes the calendar
    var busy = false;  // flatpickr's setDate fires "input" itself
    typed.addEventListener("input", function () {
      var d = parse(typed.value);
      if (!d || busy) { return; }
      busy = true;
      try {
        var same = fp.selectedDates.length === 1 && fp.selectedDates[0].getTime() === d.getTime();
        if (!same) { fp.setDate(d, true); }
        fp.close();
      } finally {
        busy = false;
      }
    });
  }

  function attachForm(input) {
    var fp = window.flatpickr(input, common({dateFormat: "d.m.Y"}));
    closeOnTyping(fp, input);
    return fp;
  }

  function attachFilter(input, range) {
    var initial = (input.value || "").split(RANGE_SEPARATOR).map(parse).filter(Boolean);
    function keepIso(selected, _text, fp) {
      // the submitted value stays ISO ("a to b" for a range) whatever the calendar's own separator
      fp.input.value = selected.map(iso).join(RANGE_SEPARATOR);
    }
    var fp = window.flatpickr(input, common({
      mode: range ? "range" : "single",
      dateFormat: "Y-m-d",
      altInput: true,
      altFormat: "d.m.Y",
      defaultDate: initial,
      onReady: [function (selected, text, fp) {
        if (fp.altInput) { fp.altInput.setAttribute("placeholder", input.getAttribute("data-placeholder") || ""); }
        keepIso(selected, text, fp);
      }],
      onValueUpdate: [keepIso],
      onChange: [function () {
        if (window.jQuery) { window.jQuery(input).trigger("change"); }
      }]
    }));
    if (!range && fp.altInput) { closeOnTyping(fp, fp.altInput); }
    return fp;
  }

  function attach(input, range) {
    if (!input || !window.flatpickr) { return false; }
    if (input._flatpickr) { return true; }
    var isoValued = (input.getAttribute("data-date-format") || "").indexOf("YYYY") === 0;
    if (!input.getAttribute("data-placeholder")) {
      input.setAttribute("data-placeholder", calendarLocale().placeholder || "");
    }
    if (isoValued || range) { attachFilter(input, range); } else { attachForm(input); }
    return true;
  }

  // Flask-Admin's form script styles every [data-role] input (also the inline forms added later and
  // the filters): its converters run first, and ours takes the date inputs from daterangepicker.
  function converter($el, name) {
    if (name === "datepicker") { return attach($el[0], false); }
    if (name === "daterangepicker") { return attach($el[0], true); }
    return false;
  }

  function register() {
    if (window.faForm && !window.faForm.profregDates) {
      window.faForm.addFieldConverter(converter);
      window.faForm.profregDates = true;
    }
  }

  register();
  if (window.jQuery) { window.jQuery(document).on("adminFormReady", register); }

  // pages without Flask-Admin's form script (hire, corrections, training lists)
  document.addEventListener("DOMContentLoaded", function () {
    register();
    var inputs = document.querySelectorAll('input[data-role="datepicker"]');
    for (var i = 0; i < inputs.length; i++) {
      if (!inputs[i].closest(".inline-field-template")) { attach(inputs[i], false); }
    }
  });

  window.profregDates = {parse: parse, dotted: dotted, iso: iso};
})();
