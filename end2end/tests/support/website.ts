// A website on loopback for link previews: one article with Open Graph tags
// and an image.
import { createServer, type Server } from "node:http";

/** A 2×2 red PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==",
  "base64",
);

/** A website on loopback with one article; it counts requests for its image. */
export async function site(): Promise<{ url: string; imageRequests: () => number; close: () => Promise<void> }> {
  let images = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === "/cover.png") {
      images += 1;
      res.writeHead(200, { "content-type": "image/png" }).end(PNG);
      return;
    }
    res.writeHead(200, { "content-type": "text/html" }).end(
      `<!doctype html><head>
        <meta property="og:title" content="Tide tables for the bay">
        <meta property="og:description" content="High water at 06:12 and 18:40.">
        <meta property="og:site_name" content="Harbour Office">
        <meta property="og:image" content="/cover.png"></head>`,
    );
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  return {
    url: `http://127.0.0.1:${address.port}/tides`,
    imageRequests: () => images,
    // Parley keeps its connection to the site open for the next request.
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
