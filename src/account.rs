//! What the server-rendered account pages show: the login form, its second step (a TOTP code),
//! and the Sessions view. Plain data, filled by the server and rendered by the UI crate's `ssr`
//! part; the browser bundle never uses it (it costs the WebAssembly nothing).

/// The login form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginPage {
    /// The base path (`""` or `/dash`).
    pub base: String,
    /// Where to go after the login (already checked to be a path of this site).
    pub next: String,
    /// The one message shown after a refused attempt: the same words for every failure.
    pub error: Option<String>,
    /// A line shown above the form (after a logout: "You have logged out.").
    pub notice: Option<String>,
    /// How long "remember this device" keeps a session, in words ("30 days").
    pub remember_for: String,
}

/// The login's second step: the code of the user's authenticator app.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodePage {
    /// The base path.
    pub base: String,
    /// The signed pending login the form carries back (single use, five minutes).
    pub pending: String,
    /// Why the last code was not taken, if it was not.
    pub error: Option<String>,
}

/// One session as the Sessions view lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRow {
    /// Its public handle (32 hex digits), what the revoke form sends.
    pub handle: String,
    /// Whose.
    pub user: String,
    /// The browser, from the user agent ("Firefox 133").
    pub browser: String,
    /// The operating system, from the user agent ("Linux").
    pub os: String,
    /// The address it logged in from.
    pub addr: String,
    /// When it was made (ms since the epoch).
    pub created_ms: u64,
    /// When it was last used (ms since the epoch).
    pub seen_ms: u64,
    /// Made with "remember this device".
    pub remember: bool,
    /// The session of the request showing the view.
    pub this_device: bool,
}

/// One API token as the Sessions view lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRow {
    /// Its public handle (32 hex digits).
    pub handle: String,
    /// What its maker called it.
    pub name: String,
    /// Whose.
    pub user: String,
    /// `viewer` or `admin`.
    pub role: String,
    /// When it was made (ms since the epoch).
    pub created_ms: u64,
    /// When it was last used, if ever.
    pub used_ms: Option<u64>,
    /// When it stops working, if ever.
    pub expires_ms: Option<u64>,
}

/// The Sessions view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionsPage {
    /// The base path.
    pub base: String,
    /// The user looking.
    pub user: String,
    /// Whether that user is an admin (sees and may revoke everyone's).
    pub admin: bool,
    /// Whether the request came with a session (else Basic or a token: no "this device").
    pub by_session: bool,
    /// The user's previous login: when (ms since the epoch) and from where.
    pub last_login: Option<(u64, String)>,
    /// What the last action did, after its redirect.
    pub notice: Option<String>,
    /// Now (ms since the epoch, the server's clock).
    pub now_ms: u64,
    /// The live sessions, newest first.
    pub sessions: Vec<SessionRow>,
    /// The live API tokens, newest first.
    pub tokens: Vec<TokenRow>,
}
