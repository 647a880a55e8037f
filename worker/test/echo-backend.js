// A backend Worker for the tests, reached through a service binding: answers with what it got.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    return Response.json({
      echo: {
        method: request.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: request.headers.get("content-type"),
        body,
      },
    });
  },
};
