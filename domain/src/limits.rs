//! Rate limits: how often a person, a client address or a gateway
//! connection may do each thing.
//!
//! Every limit is a token bucket (GCRA, from `governor`): a [`Rate`] lets
//! `burst` through at once and refills them evenly over `per`. A
//! [`Bucket`] names what is limited; each is keyed by who is asking (an
//! account, an address, an account in a channel, a connection). The
//! buckets keyed by a person or an address live behind [`LimitStore`], so
//! that every node of a deployment counts against the same bucket (the
//! server keeps them in Redis when it has one); [`MemoryLimits`] keeps them
//! in this process. Buckets keyed by a gateway connection are always in this
//! process's memory: a connection lives on one node.
//!
//! Two bounds are not buckets: failed sign-ins slow an account down with a
//! growing wait ([`SignInBackoff`]), whichever addresses they come from, and
//! password hashing runs at most [`Limits::hashing`] at a time.

use crate::error::{Error, Result};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What a limit is on. Each has its own rate and its own buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Every HTTP request, per client address.
    Requests,
    /// Creating an account, per client address.
    Signup,
    /// Signing in, per client address.
    Login,
    /// Asking for a password-reset email, per client address and per address asked for.
    PasswordReset,
    /// Posting a message, per person and channel.
    Post,
    /// Adding or removing a reaction, per person.
    Reaction,
    /// Sending a message with files, per person.
    Upload,
    /// Searching, per person.
    Search,
    /// Creating an invite, per person.
    Invite,
    /// Emails that people cause (invites, password resets), per recipient.
    Email,
    /// Gateway commands, per connection.
    GatewayCommand,
    /// `TYPING`, per connection and channel.
    Typing,
    /// Call signalling (`RTC_*`, `VOICE_*`), per connection.
    Signalling,
}

impl Bucket {
    pub const ALL: [Bucket; 13] = [
        Bucket::Requests,
        Bucket::Signup,
        Bucket::Login,
        Bucket::PasswordReset,
        Bucket::Post,
        Bucket::Reaction,
        Bucket::Upload,
        Bucket::Search,
        Bucket::Invite,
        Bucket::Email,
        Bucket::GatewayCommand,
        Bucket::Typing,
        Bucket::Signalling,
    ];

    /// Whether its buckets are keyed by a gateway connection, which lives
    /// on one node: those are kept in this process's memory, never shared.
    pub fn per_connection(self) -> bool {
        matches!(self, Bucket::GatewayCommand | Bucket::Typing | Bucket::Signalling)
    }

    /// Its name in settings (`PARLEY_LIMIT_<NAME>`) and in `X-RateLimit-Bucket`.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Requests => "requests",
            Bucket::Signup => "signup",
            Bucket::Login => "login",
            Bucket::PasswordReset => "password_reset",
            Bucket::Post => "post",
            Bucket::Reaction => "reaction",
            Bucket::Upload => "upload",
            Bucket::Search => "search",
            Bucket::Invite => "invite",
            Bucket::Email => "email",
            Bucket::GatewayCommand => "gateway_command",
            Bucket::Typing => "typing",
            Bucket::Signalling => "signalling",
        }
    }

    /// The rate a new deployment starts with: what a busy person never
    /// reaches, and what keeps a script from doing harm.
    pub fn default_rate(self) -> Rate {
        let (burst, secs) = match self {
            Bucket::Requests => (200, 10),
            Bucket::Signup => (20, 3600),
            Bucket::Login => (30, 300),
            Bucket::PasswordReset => (5, 3600),
            Bucket::Post => (10, 10),
            Bucket::Reaction => (20, 10),
            Bucket::Upload => (10, 60),
            Bucket::Search => (30, 60),
            Bucket::Invite => (20, 3600),
            Bucket::Email => (10, 3600),
            Bucket::GatewayCommand => (120, 60),
            Bucket::Typing => (1, 3),
            Bucket::Signalling => (100, 10),
        };
        Rate::new(burst, Duration::from_secs(secs)).expect("default rates are valid")
    }
}

/// `burst` at once, refilled evenly over `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    burst: NonZeroU32,
    per: Duration,
}

impl Rate {
    /// `None` when `burst` is 0 or `per` is shorter than `burst` nanoseconds.
    pub fn new(burst: u32, per: Duration) -> Option<Rate> {
        let burst = NonZeroU32::new(burst)?;
        (per.as_nanos() >= u128::from(burst.get())).then_some(Rate { burst, per })
    }

    /// Reads `N/<duration>` (`10/10s`, `20/1h`, `5/500ms`) or `off`.
    /// `Ok(None)` is off.
    pub fn parse(text: &str) -> std::result::Result<Option<Rate>, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad = || format!("“{text}” is not a rate: write N/<duration> like 10/10s, 20/1h, or off");
        let (n, per) = text.split_once('/').ok_or_else(bad)?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = parse_duration(per.trim()).ok_or_else(bad)?;
        Rate::new(n, per).map(Some).ok_or_else(bad)
    }

    pub fn burst(self) -> u32 {
        self.burst.get()
    }

    pub fn per(self) -> Duration {
        self.per
    }

    fn quota(self) -> Quota {
        let each = self.per / self.burst.get();
        Quota::with_period(each).expect("a rate refills at a positive interval").allow_burst(self.burst)
    }
}

/// `500ms`, `10s`, `5m`, `1h`.
fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        "h" => Some(Duration::from_secs(n.checked_mul(3600)?)),
        _ => None,
    }
}

/// The rate of each bucket; a bucket without one is not limited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rates(HashMap<Bucket, Rate>);

impl Default for Rates {
    fn default() -> Self {
        Rates(Bucket::ALL.iter().map(|&b| (b, b.default_rate())).collect())
    }
}

impl Rates {
    /// Sets `bucket`'s rate; `None` turns its limit off.
    pub fn set(&mut self, bucket: Bucket, rate: Option<Rate>) {
        match rate {
            Some(r) => self.0.insert(bucket, r),
            None => self.0.remove(&bucket),
        };
    }

    pub fn get(&self, bucket: Bucket) -> Option<Rate> {
        self.0.get(&bucket).copied()
    }
}

/// A refusal: which bucket, and when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub bucket: &'static str,
    /// How many the bucket holds when full.
    pub limit: u32,
    /// How long until one more is let through.
    pub retry_after: Duration,
    /// How long until the bucket is full again.
    pub reset_after: Duration,
    /// Why, in words a person can act on.
    pub reason: RefusalReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// Too many of the same thing in a short time.
    TooOften,
    /// Too many wrong passwords for one account.
    FailedSignIns,
}

impl Refusal {
    /// `bucket` (at `rate`) is empty: one more after `retry_after`.
    pub fn too_often(bucket: Bucket, rate: Rate, retry_after: Duration) -> Refusal {
        Refusal {
            bucket: bucket.name(),
            limit: rate.burst(),
            retry_after,
            // Empty now: full again after the wait for one, plus the rest.
            reset_after: retry_after + rate.per() / rate.burst() * (rate.burst() - 1),
            reason: RefusalReason::TooOften,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.retry_after.as_secs_f64().ceil().max(1.0) as u64;
        let wait = if secs == 1 { "a second".to_string() } else { format!("{secs} seconds") };
        match self.reason {
            RefusalReason::TooOften => write!(f, "You are doing that too often. Wait {wait} and try again."),
            RefusalReason::FailedSignIns => write!(
                f,
                "Too many wrong passwords for this account. Wait {wait} and try again, or reset your password."
            ),
        }
    }
}

/// Where the buckets of people and addresses are kept: in memory for one
/// process ([`MemoryLimits`]), in a store every node shares for several.
#[async_trait::async_trait]
pub trait LimitStore: Send + Sync + 'static {
    /// Takes one from `key`'s bucket of `bucket` at `rate`, or says when
    /// there will be one.
    async fn take(&self, bucket: Bucket, rate: Rate, key: &str) -> std::result::Result<(), Refusal>;

    /// `account`'s failed sign-ins not yet forgotten: how many, and when
    /// the last was (unix ms).
    async fn failed_sign_ins(&self, account: &str) -> Option<(u32, i64)>;

    /// Counts one more failed sign-in of `account` at `now_ms`; all of them
    /// are forgotten `keep` after the last.
    async fn sign_in_failed(&self, account: &str, now_ms: i64, keep: Duration);

    /// Forgets `account`'s failed sign-ins.
    async fn sign_in_succeeded(&self, account: &str);
}

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Buckets in this process's memory. Buckets that have refilled are dropped
/// now and then, so memory follows the number of recent clients only.
pub struct MemoryLimits {
    limiters: std::sync::Mutex<HashMap<(Bucket, Rate), Arc<Keyed>>>,
    takes: AtomicU64,
    sign_ins: SignInCounts,
}

/// How many takes between two sweeps of refilled buckets.
const SWEEP_EVERY: u64 = 4096;

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits { limiters: Default::default(), takes: AtomicU64::new(0), sign_ins: Default::default() }
    }
}

impl MemoryLimits {
    fn limiter(&self, bucket: Bucket, rate: Rate) -> Arc<Keyed> {
        let mut all = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        all.entry((bucket, rate))
            .or_insert_with(|| Arc::new(RateLimiter::keyed(rate.quota()).with_middleware()))
            .clone()
    }

    fn sweep(&self) {
        let all: Vec<Arc<Keyed>> =
            self.limiters.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        for limiter in all {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

impl MemoryLimits {
    /// Takes one from `key`'s bucket of `bucket` at `rate`, or says when
    /// there will be one.
    pub fn take_here(&self, bucket: Bucket, rate: Rate, key: &str) -> std::result::Result<(), Refusal> {
        if self.takes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        let limiter = self.limiter(bucket, rate);
        match limiter.check_key(&key.to_string()) {
            Ok(_) => Ok(()),
            Err(not_until) => {
                Err(Refusal::too_often(bucket, rate, not_until.wait_time_from(DefaultClock::default().now())))
            }
        }
    }
}

#[async_trait::async_trait]
impl LimitStore for MemoryLimits {
    async fn take(&self, bucket: Bucket, rate: Rate, key: &str) -> std::result::Result<(), Refusal> {
        self.take_here(bucket, rate, key)
    }

    async fn failed_sign_ins(&self, account: &str) -> Option<(u32, i64)> {
        self.failed_sign_ins_here(account)
    }

    async fn sign_in_failed(&self, account: &str, now_ms: i64, keep: Duration) {
        self.sign_in_failed_here(account, now_ms, keep)
    }

    async fn sign_in_succeeded(&self, account: &str) {
        self.sign_in_succeeded_here(account)
    }
}

impl MemoryLimits {
    /// [`LimitStore::failed_sign_ins`], for a store that falls back on this one.
    pub fn failed_sign_ins_here(&self, account: &str) -> Option<(u32, i64)> {
        self.sign_ins.get(account, crate::now_ms())
    }

    /// [`LimitStore::sign_in_failed`], for a store that falls back on this one.
    pub fn sign_in_failed_here(&self, account: &str, now_ms: i64, keep: Duration) {
        self.sign_ins.failed(account, now_ms, keep)
    }

    /// [`LimitStore::sign_in_succeeded`], for a store that falls back on this one.
    pub fn sign_in_succeeded_here(&self, account: &str) {
        self.sign_ins.forget(account)
    }
}

/// Failed sign-ins per account: the first few are free, then each one more
/// doubles the wait before the account may try again (up to a cap), from
/// any address and through any node. A success forgets them; so does a day
/// without one. The counts are kept in the [`LimitStore`].
#[derive(Debug, Clone, Copy)]
pub struct SignInBackoff {
    free: u32,
    first_wait: Duration,
    max_wait: Duration,
}

/// How long failed sign-ins are remembered after the last one.
pub const SIGN_IN_MEMORY: Duration = Duration::from_secs(24 * 3600);

impl SignInBackoff {
    pub fn new(free: u32, first_wait: Duration, max_wait: Duration) -> Self {
        SignInBackoff { free, first_wait, max_wait }
    }

    fn wait_after(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(30);
        self.first_wait.saturating_mul(1 << doublings).min(self.max_wait)
    }

    /// The refusal, if `failures` failed sign-ins, the last at `last_ms`,
    /// still hold the account back at `now_ms`.
    fn refusal(&self, failures: u32, last_ms: i64, now_ms: i64) -> Option<Refusal> {
        let ready = last_ms.saturating_add(self.wait_after(failures).as_millis() as i64);
        (now_ms < ready).then(|| {
            let wait = Duration::from_millis((ready - now_ms) as u64);
            Refusal {
                bucket: "login_account",
                limit: self.free,
                retry_after: wait,
                reset_after: wait,
                reason: RefusalReason::FailedSignIns,
            }
        })
    }
}

impl Default for SignInBackoff {
    /// Five wrong passwords are free; then 1 s, 2 s, 4 s, … up to 15 minutes.
    fn default() -> Self {
        SignInBackoff::new(5, Duration::from_secs(1), Duration::from_secs(15 * 60))
    }
}

/// Failed sign-ins kept in memory: `(how many, last unix ms, forgotten at unix ms)`.
#[derive(Default)]
struct SignInCounts(std::sync::Mutex<HashMap<String, (u32, i64, i64)>>);

/// Accounts remembered at most; the oldest are forgotten beyond it.
const BACKOFF_ACCOUNTS: usize = 100_000;

impl SignInCounts {
    fn get(&self, account: &str, now_ms: i64) -> Option<(u32, i64)> {
        let counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(account).filter(|c| c.2 > now_ms).map(|&(n, last, _)| (n, last))
    }

    fn failed(&self, account: &str, now_ms: i64, keep: Duration) {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= BACKOFF_ACCOUNTS && !counts.contains_key(account) {
            counts.retain(|_, c| c.2 > now_ms);
            if counts.len() >= BACKOFF_ACCOUNTS
                && let Some(oldest) = counts.iter().min_by_key(|(_, c)| c.1).map(|(k, _)| k.clone())
            {
                counts.remove(&oldest);
            }
        }
        let entry = counts.entry(account.to_string()).or_insert((0, now_ms, 0));
        if entry.2 <= now_ms {
            entry.0 = 0;
        }
        *entry = (entry.0.saturating_add(1), now_ms, now_ms.saturating_add(keep.as_millis() as i64));
    }

    fn forget(&self, account: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(account);
    }
}

/// Settings of the limits.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    pub rates: Rates,
    /// Password hashes computed at the same time, at most.
    pub hashing: usize,
    /// Uploads one person may have in flight at once.
    pub uploads_per_person: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            rates: Rates::default(),
            hashing: std::thread::available_parallelism().map_or(2, |n| n.get()),
            uploads_per_person: 3,
        }
    }
}

impl LimitSettings {
    /// No rate limits at all (hashing and uploads still bounded): for
    /// seeding data in tests and benchmarks.
    pub fn unlimited() -> Self {
        let mut settings = LimitSettings::default();
        for bucket in Bucket::ALL {
            settings.rates.set(bucket, None);
        }
        settings
    }
}

/// The limits as the hub applies them.
#[derive(Clone)]
pub struct Limits {
    rates: Arc<Rates>,
    /// People's and addresses' buckets.
    store: Arc<dyn LimitStore>,
    /// Connections' buckets.
    here: Arc<MemoryLimits>,
    backoff: SignInBackoff,
    hashing: Arc<tokio::sync::Semaphore>,
    uploads: Arc<UploadSlots>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(LimitSettings::default(), Arc::new(MemoryLimits::default()))
    }
}

impl Limits {
    pub fn new(settings: LimitSettings, store: Arc<dyn LimitStore>) -> Self {
        Limits {
            rates: Arc::new(settings.rates),
            store,
            here: Arc::new(MemoryLimits::default()),
            backoff: SignInBackoff::default(),
            hashing: Arc::new(tokio::sync::Semaphore::new(settings.hashing.max(1))),
            uploads: Arc::new(UploadSlots::new(settings.uploads_per_person.max(1))),
        }
    }

    /// Takes one from `key`'s `bucket` (a person's or an address's, counted
    /// across every node); a refusal is [`Error::RateLimited`].
    pub async fn check(&self, bucket: Bucket, key: &str) -> Result<()> {
        debug_assert!(!bucket.per_connection(), "{} is kept per connection", bucket.name());
        let Some(rate) = self.rates.get(bucket) else { return Ok(()) };
        self.store.take(bucket, rate, key).await.map_err(Error::RateLimited)
    }

    /// Takes one from a gateway connection's `bucket`, kept on this node.
    pub fn check_connection(&self, bucket: Bucket, connection: &str) -> Result<()> {
        debug_assert!(bucket.per_connection(), "{} is not kept per connection", bucket.name());
        let Some(rate) = self.rates.get(bucket) else { return Ok(()) };
        self.here.take_here(bucket, rate, connection).map_err(Error::RateLimited)
    }

    /// Whether `account` may try a password now (see [`SignInBackoff`]).
    pub async fn sign_in_allowed(&self, account: &str) -> Result<()> {
        let Some((failures, last)) = self.store.failed_sign_ins(account).await else { return Ok(()) };
        match self.backoff.refusal(failures, last, crate::now_ms()) {
            Some(refusal) => Err(Error::RateLimited(refusal)),
            None => Ok(()),
        }
    }

    pub async fn sign_in_failed(&self, account: &str) {
        self.store.sign_in_failed(account, crate::now_ms(), SIGN_IN_MEMORY).await
    }

    pub async fn sign_in_succeeded(&self, account: &str) {
        self.store.sign_in_succeeded(account).await
    }

    /// Runs `work` (a password hash) when fewer than the allowed number of
    /// hashes are running, on the blocking pool.
    pub async fn hash<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self.hashing.acquire().await.map_err(|e| Error::Internal(Box::new(e)))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| Error::Internal(Box::new(e)))
    }

    /// Holds one of `person`'s upload slots until the guard is dropped, or
    /// refuses when all are in use.
    pub fn upload_slot(&self, person: crate::Id) -> Result<UploadGuard> {
        self.uploads.take(person)
    }
}

/// How many uploads each person has in flight.
#[derive(Debug)]
struct UploadSlots {
    each: usize,
    busy: std::sync::Mutex<HashMap<crate::Id, usize>>,
}

impl UploadSlots {
    fn new(each: usize) -> Self {
        UploadSlots { each, busy: Default::default() }
    }

    fn take(self: &Arc<Self>, person: crate::Id) -> Result<UploadGuard> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        let n = busy.entry(person).or_insert(0);
        if *n >= self.each {
            return Err(Error::TooManyUploads(self.each));
        }
        *n += 1;
        Ok(UploadGuard { slots: self.clone(), person })
    }
}

/// One upload in flight; dropping it frees the slot.
#[derive(Debug)]
pub struct UploadGuard {
    slots: Arc<UploadSlots>,
    person: crate::Id,
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        let mut busy = self.slots.busy.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = busy.get_mut(&self.person) {
            *n -= 1;
            if *n == 0 {
                busy.remove(&self.person);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_units_and_off() {
        assert_eq!(Rate::parse("10/10s"), Ok(Rate::new(10, Duration::from_secs(10))));
        assert_eq!(Rate::parse(" 20/1h "), Ok(Rate::new(20, Duration::from_secs(3600))));
        assert_eq!(Rate::parse("5/500ms"), Ok(Rate::new(5, Duration::from_millis(500))));
        assert_eq!(Rate::parse("3/2m"), Ok(Rate::new(3, Duration::from_secs(120))));
        assert_eq!(Rate::parse("OFF"), Ok(None));
        for bad in ["", "10", "0/1s", "10/", "10/1d", "x/1s", "10/s", "-1/1s"] {
            assert!(Rate::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_bucket_lets_its_burst_through_then_refuses_with_the_wait() {
        let limits = MemoryLimits::default();
        let rate = Rate::new(3, Duration::from_secs(30)).unwrap();
        for _ in 0..3 {
            assert!(limits.take_here(Bucket::Post, rate, "u:1").is_ok());
        }
        let refusal = limits.take_here(Bucket::Post, rate, "u:1").unwrap_err();
        assert_eq!(refusal.bucket, "post");
        assert_eq!(refusal.limit, 3);
        assert!(
            refusal.retry_after > Duration::from_secs(9) && refusal.retry_after <= Duration::from_secs(10)
        );
        assert!(
            refusal.reset_after > Duration::from_secs(29) && refusal.reset_after <= Duration::from_secs(30)
        );
        assert!(limits.take_here(Bucket::Post, rate, "u:2").is_ok(), "another key has its own bucket");
        assert!(limits.take_here(Bucket::Reaction, rate, "u:1").is_ok(), "another bucket is separate");
    }

    #[test]
    fn failed_sign_ins_wait_longer_each_time() {
        let backoff = SignInBackoff::new(2, Duration::from_secs(1), Duration::from_secs(8));
        assert_eq!(backoff.wait_after(0), Duration::ZERO);
        assert_eq!(backoff.wait_after(1), Duration::ZERO);
        assert_eq!(backoff.wait_after(2), Duration::from_secs(1));
        assert_eq!(backoff.wait_after(3), Duration::from_secs(2));
        assert_eq!(backoff.wait_after(4), Duration::from_secs(4));
        assert_eq!(backoff.wait_after(5), Duration::from_secs(8));
        assert_eq!(backoff.wait_after(40), Duration::from_secs(8), "capped, no overflow");
        assert!(backoff.refusal(1, 1_000, 1_000).is_none());
        let refusal = backoff.refusal(3, 1_000, 1_500).unwrap();
        assert_eq!(
            (refusal.reason, refusal.retry_after),
            (RefusalReason::FailedSignIns, Duration::from_millis(1_500))
        );
        assert!(backoff.refusal(3, 1_000, 3_000).is_none(), "waited out");
    }

    #[tokio::test]
    async fn a_success_or_a_quiet_day_forgets_failed_sign_ins() {
        let limits = Limits::new(LimitSettings::default(), Arc::new(MemoryLimits::default()));
        for _ in 0..6 {
            limits.sign_in_failed("ana").await;
        }
        assert!(matches!(limits.sign_in_allowed("ana").await, Err(Error::RateLimited(_))));
        assert!(limits.sign_in_allowed("bob").await.is_ok(), "other accounts are not slowed");
        limits.sign_in_succeeded("ana").await;
        assert!(limits.sign_in_allowed("ana").await.is_ok());

        let counts = SignInCounts::default();
        counts.failed("cat", 0, Duration::from_secs(10));
        counts.failed("cat", 1_000, Duration::from_secs(10));
        assert_eq!(counts.get("cat", 5_000), Some((2, 1_000)));
        assert_eq!(counts.get("cat", 11_000), None, "forgotten 10 s after the last");
        counts.failed("cat", 12_000, Duration::from_secs(10));
        assert_eq!(counts.get("cat", 12_000), Some((1, 12_000)), "counting starts again");
    }

    #[test]
    fn uploads_in_flight_are_bounded_per_person() {
        let limits = Limits::new(
            LimitSettings { uploads_per_person: 2, ..LimitSettings::default() },
            Arc::new(MemoryLimits::default()),
        );
        let (ana, bob) = (crate::Id(1), crate::Id(2));
        let first = limits.upload_slot(ana).unwrap();
        let _second = limits.upload_slot(ana).unwrap();
        assert!(matches!(limits.upload_slot(ana), Err(Error::TooManyUploads(2))));
        assert!(limits.upload_slot(bob).is_ok());
        drop(first);
        assert!(limits.upload_slot(ana).is_ok(), "a finished upload frees its slot");
    }

    #[test]
    fn refusals_say_how_long_to_wait() {
        let r = Refusal {
            bucket: "post",
            limit: 1,
            retry_after: Duration::from_millis(2300),
            reset_after: Duration::from_secs(3),
            reason: RefusalReason::TooOften,
        };
        assert_eq!(r.to_string(), "You are doing that too often. Wait 3 seconds and try again.");
    }
}
