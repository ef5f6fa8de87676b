// The CMDB's GraphiQL: queries go to this server only, with the signed-in session's CSRF
// token (read from the page) on every request, as every cookie-authenticated write needs.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="cmdb-csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  var fetcher = GraphiQL.createFetcher({
    url: window.location.pathname,
    headers: token ? { "X-CSRF-Token": token } : {}
  });
  var defaultQuery = [
    "# Welcome to the CMDB. Press the \u25b6 button to run this query.",
    "# The Docs panel (top left) lists every query and mutation.",
    "query FirstServers {",
    "  cis(filter: {class: \"Hardware\"}, first: 10) {",
    "    totalCount",
    "    edges { node { id class name state assetTag location { name } } }",
    "  }",
    "}",
    ""
  ].join("\n");
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher, defaultQuery: defaultQuery, defaultEditorToolsVisibility: true
    })
  );
})();
