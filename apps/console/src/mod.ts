/**
 * @stratreg/console: the operator console's static server, for the launcher and the
 * console container. The page itself is a browser bundle (src/web, built by build.mjs
 * into dist/page); this entry is the Node side that serves it.
 * @module
 */
export { CONSOLE_WEB_DIR, type ConsoleServer, type ConsoleServerOptions, startConsoleServer } from "./server.js";
