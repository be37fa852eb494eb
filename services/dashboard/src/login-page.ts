const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** The login form: posts the token once; the server answers with an HttpOnly session cookie. */
export function loginPage(problem?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera · sign in</title><link rel="stylesheet" href="/static/app.css"></head>
<body class="login"><main class="login-card">
<h1><span class="logo">◆</span> Tessera</h1>
<p class="muted">This dashboard needs its access token (TESSERA_DASHBOARD_TOKEN).</p>
${problem ? `<p class="alert" role="alert">${escape(problem)}</p>` : ""}
<form method="post" action="/login">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form></main></body></html>`;
}
