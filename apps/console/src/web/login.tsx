/**
 * The login form. The page holds no credential: the person types the NATS user and
 * password they were given (`viewer` to look, `operator` for controls). A server with
 * no users (the embedded one of `npm start`) takes an empty user.
 */
import { useState } from "preact/hooks";
import { ErrorLine } from "./errors.js";
import type { ConsoleError, Login } from "./nats.js";

export function LoginForm({
  defaultUrl,
  error,
  onLogin,
}: {
  defaultUrl: string;
  error: ConsoleError | undefined;
  onLogin: (l: Login) => void;
}) {
  const [url, setUrl] = useState(defaultUrl);
  const [user, setUser] = useState("");
  const [pass, setPass] = useState("");
  return (
    <form
      id="login"
      class="login"
      onSubmit={(e) => {
        e.preventDefault();
        onLogin({ url, ...(user ? { user, pass } : {}) });
      }}
    >
      <h2>Log in to NATS</h2>
      <label>
        server <input name="url" value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        user{" "}
        <input
          name="user"
          autoComplete="username"
          value={user}
          onInput={(e) => setUser((e.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        password{" "}
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          value={pass}
          onInput={(e) => setPass((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit">Log in</button>
      <ErrorLine error={error} />
    </form>
  );
}
