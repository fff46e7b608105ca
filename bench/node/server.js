// The benchmark routes (see ../servers.go) served by express-session, the
// cross-language reference:
//
//   node server.js --port 8090 --store memory     (--port 0: any free port, printed)
//   node server.js --port 8090 --store redis://127.0.0.1:6379 --prefix bench:
//
// express-session is configured as its README advises for production:
// resave false, saveUninitialized false, an HttpOnly SameSite=Lax cookie,
// x-powered-by off. The cookie's Secure flag is "auto" (set over HTTPS
// only): with secure: true, express-session would not set the cookie at
// all over the plain-HTTP loopback the benchmark uses. With Redis the store
// is connect-redis on node-redis, with its defaults (a one-day TTL, and
// touch on, which refreshes the TTL of a session that a request read but
// did not change). The memory store is express-session's MemoryStore,
// which its README says is not meant for production: it is here as the
// in-process reference only. /write is a read-modify-write, as with every
// express-session store.
import express from "express";
import session from "express-session";
import { RedisStore } from "connect-redis";
import { createClient } from "redis";

function arg(name, def) {
  const i = process.argv.indexOf("--" + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const port = Number(arg("port", "8090"));
const storeSpec = arg("store", "memory");
const prefix = arg("prefix", "express-bench:");

let store;
let client;
if (storeSpec.startsWith("redis://")) {
  client = createClient({ url: storeSpec });
  client.on("error", (err) => console.error("redis:", err));
  await client.connect();
  store = new RedisStore({ client, prefix });
} else if (storeSpec !== "memory") {
  console.error(`--store ${storeSpec}: want memory or redis://HOST:PORT`);
  process.exit(2);
}

const app = express();
app.disable("x-powered-by");
app.use(
  session({
    store,
    secret: "keycard bench express-session secret, fixed for benchmarks",
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, secure: "auto", sameSite: "lax", path: "/" },
  }),
);

app.get("/health", (req, res) => res.send("ok"));

app.get("/login", (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.user = "bench";
    req.session.counter = 0;
    res.send("ok");
  });
});

app.get("/read", (req, res) => {
  const user = req.session.user;
  if (!user) return res.status(401).send("not logged in");
  res.send(user);
});

app.get("/write", (req, res) => {
  if (!req.session.user) return res.status(401).send("not logged in");
  req.session.counter = (req.session.counter || 0) + 1;
  res.send(String(req.session.counter));
});

const server = app.listen(port, "127.0.0.1", () => {
  const kind = storeSpec === "memory" ? "memory" : "redis";
  console.log(`express-session: ${kind} on http://127.0.0.1:${server.address().port}`);
});

function stop() {
  server.close(async () => {
    if (client) await client.quit().catch(() => {});
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
