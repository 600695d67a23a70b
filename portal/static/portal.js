/* Every page of the portal tells the open grids which page it is: after a card was edited
 * (and shown again), a grid that opened it fetches that row anew. */
(function () {
  "use strict";
  if (window.BroadcastChannel) {
    new BroadcastChannel("portal-records").postMessage({ path: window.location.pathname });
  }
})();
