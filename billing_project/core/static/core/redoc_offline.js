/* Redoc's sidebar shows its maker's logo from https://cdn.redoc.ly, the one thing the Redoc page would
 * load from another host: offline that is an error in the console, and the Content-Security-Policy
 * allows images from this site only. Loaded before Redoc's bundle, this gives that image an empty
 * source instead, which Redoc treats as a logo that failed to load: it leaves it out and keeps the
 * "API docs by Redocly" link. Redoc's React sets an image's source as a property; an attribute is
 * covered too. */
(() => {
  "use strict";
  const local = (value) => (String(value).startsWith("https://cdn.redoc.ly/") ? "data:," : value);
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      src.set.call(this, local(value));
    },
  });
  const setAttribute = Element.prototype.setAttribute;
  HTMLImageElement.prototype.setAttribute = function (name, value) {
    return setAttribute.call(this, name, name.toLowerCase() === "src" ? local(value) : value);
  };
})();
