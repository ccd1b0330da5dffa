/* The console's tabs. Each screen registers itself with registerView():
 * enter(entering) runs when it is shown (entering: it was not shown before),
 * mayLeave() may refuse leaving (unsaved work), heading is focused on entry. */

import { $, show } from "./dom.js";

var views = {};
var current = "";

export function registerView(name, options) {
  views[name] = options || {};
}

export function currentView() {
  return current;
}

export function mayLeaveView() {
  var leaving = views[current];
  return !leaving || !leaving.mayLeave || leaving.mayLeave();
}

export function switchView(name, focus) {
  if (current !== name && !mayLeaveView()) return;
  var entering = current !== name;
  current = name;
  Object.keys(views).forEach(function (other) {
    show($(other + "-view"), other === name);
    var tab = $("tab-" + other);
    if (tab) {
      if (other === name) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
  });
  var view = views[name];
  if (view && view.enter) view.enter(entering);
  if (focus && view && view.heading) $(view.heading).focus();
}

/* Signed out: no view is current (the next sign-in enters one afresh). */
export function resetView() {
  current = "";
}
