use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::id::Id;
use crate::input::{DisplayName, Email, Password, Username};
use crate::limits::Bucket;
use crate::model::{ApiToken, User};
use crate::password;
use std::net::IpAddr;

/// What a person fills in to sign up, unparsed.
#[derive(Debug, Clone, Default)]
pub struct Signup {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub password: String,
}

impl Hub {
    /// Creates an account. `from` is the client's address, when known: each
    /// address may create only so many.
    pub async fn signup(&self, form: Signup, from: Option<IpAddr>) -> Result<User> {
        let username = Username::parse(&form.username)?;
        let display_name = if form.display_name.trim().is_empty() {
            DisplayName::parse(username.as_str())?
        } else {
            DisplayName::parse(&form.display_name)?
        };
        let email = Email::parse(&form.email)?;
        let pw = Password::parse(&form.password)?;
        if let Some(address) = from {
            self.limits.check(Bucket::Signup, &address.to_string()).await?;
        }
        let hash = self.limits.hash(move || password::hash_password(pw.expose())).await??;
        let user = User {
            id: Id::new(),
            username: username.into_inner(),
            display_name: display_name.into_inner(),
            email: email.into_inner(),
            created_at: crate::now_ms(),
            is_bot: false,
        };
        self.store.create_user(&user, &hash).await?;
        Ok(user)
    }

    /// Checks a username and password. Unknown users cost as much time as
    /// wrong passwords, so timing does not reveal which usernames exist.
    /// `from` is the client's address, when known: each address may try
    /// only so often. After a few wrong passwords for one account, each
    /// further try waits longer, from whatever address it comes.
    pub async fn login(&self, username: &str, password: &str, from: Option<IpAddr>) -> Result<User> {
        if password.is_empty() {
            return Err(Error::invalid("password", "Enter your password."));
        }
        if let Some(address) = from {
            self.limits.check(Bucket::Login, &address.to_string()).await?;
        }
        let username = username.trim().to_lowercase();
        self.limits.sign_in_allowed(&username).await?;
        let found = self.store.credentials(&username).await?;
        let (user, hash) = match found {
            Some((u, h)) => (Some(u), h),
            None => (None, password::dummy_hash().to_string()),
        };
        let pw = password.to_string();
        let ok = self.limits.hash(move || password::verify_password(&pw, &hash)).await?;
        match user {
            Some(u) if ok => {
                self.limits.sign_in_succeeded(&username).await;
                Ok(u)
            }
            _ => {
                self.limits.sign_in_failed(&username).await;
                Err(Error::BadCredentials)
            }
        }
    }

    /// Issues the API token a sign-in answers with; only its digest is stored.
    pub async fn issue_token(&self, user: Id) -> Result<String> {
        let token = password::new_token();
        self.store
            .create_token(user, &password::token_digest(&token), "sign-in", crate::now_ms(), None)
            .await?;
        Ok(token)
    }

    /// Makes a named API token for scripts and bots, expiring after
    /// `expires_in_days` (1 to 365) or never. The token is shown once.
    pub async fn create_token(
        &self,
        user: Id,
        name: &str,
        expires_in_days: Option<i64>,
    ) -> Result<(ApiToken, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid(
                "name",
                "Name the token (up to 100 characters), e.g. after the script that uses it.",
            ));
        }
        let lifetime = match expires_in_days {
            None | Some(0) => None,
            Some(days @ 1..=365) => Some(days * 86_400_000),
            Some(_) => {
                return Err(Error::invalid(
                    "expires_in_days",
                    "A token lasts 1 to 365 days, or 0 for never.",
                ));
            }
        };
        let (token, now) = (password::new_token(), crate::now_ms());
        let digest = password::token_digest(&token);
        let expires_at = lifetime.map(|ms| now + ms);
        self.store.create_token(user, &digest, name, now, expires_at).await?;
        let info =
            ApiToken { id: ApiToken::id_of(&digest), name: name.to_string(), created_at: now, expires_at };
        Ok((info, token))
    }

    /// `user`'s API tokens that still work (sign-ins' and named ones).
    pub async fn tokens(&self, user: Id) -> Result<Vec<ApiToken>> {
        self.store.tokens_of(user, crate::now_ms()).await
    }

    /// Revokes one of `user`'s tokens by its id.
    pub async fn revoke_token_by_id(&self, user: Id, id: &str) -> Result<()> {
        match self.store.delete_token_by_id(user, id.trim()).await? {
            true => Ok(()),
            false => Err(Error::NotFound(Thing::Token)),
        }
    }

    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        self.store.user_by_token(&password::token_digest(token), crate::now_ms()).await
    }

    /// Signing out: ends the token the request used, if any, and the push
    /// subscriptions made in the session being ended.
    pub async fn sign_out(&self, token: Option<&str>, session: Option<&str>) -> Result<()> {
        if let Some(token) = token {
            self.store.delete_token(&password::token_digest(token)).await?;
        }
        if let Some(session) = session {
            self.store.delete_push_subscriptions_of_session(session).await?;
        }
        Ok(())
    }

    /// Signs `user` out everywhere: every session, token and push
    /// subscription but the session `keep` (the one asking, when it stays).
    pub async fn sign_out_everywhere(&self, user: Id, keep: Option<&str>) -> Result<()> {
        self.store.delete_sessions_of(user, keep).await?;
        self.store.delete_tokens_of(user, None).await?;
        self.store.delete_push_subscriptions_of(user, keep).await?;
        Ok(())
    }

    /// Changes `user`'s password after checking the current one (wrong
    /// guesses slow down as at sign-in). Every other session and every token
    /// ends: whoever knew the old password is out.
    pub async fn change_password(
        &self,
        user: Id,
        current: &str,
        new: &str,
        keep: Option<&str>,
    ) -> Result<()> {
        let me = self.store.user(user).await?.ok_or(Error::NotFound(Thing::User))?;
        let new = Password::parse(new).map_err(|e| rename_field(e, "new_password"))?;
        self.limits.sign_in_allowed(&me.username).await?;
        let hash = self.store.password_hash(user).await?.ok_or(Error::NotFound(Thing::User))?;
        let given = current.to_string();
        if !self.limits.hash(move || password::verify_password(&given, &hash)).await? {
            self.limits.sign_in_failed(&me.username).await;
            return Err(Error::invalid("current_password", "That is not your current password."));
        }
        let hash = self.limits.hash(move || password::hash_password(new.expose())).await??;
        self.store.set_password_hash(user, &hash).await?;
        self.sign_out_everywhere(user, keep).await
    }

    /// How long a password reset link works.
    pub const RESET_MINUTES: i64 = 30;

    /// Sends a password reset link to `email` if an account has it. The
    /// answer is the same either way, so nobody learns which addresses have
    /// accounts; requests are limited per client address and per address
    /// written to.
    pub async fn request_password_reset(&self, email: &str, from: Option<IpAddr>) -> Result<()> {
        let email = Email::parse(email)?.into_inner();
        if email.is_empty() {
            return Err(Error::invalid("email", "Enter the email address of your account."));
        }
        if let Some(address) = from {
            self.limits.check(Bucket::PasswordReset, &address.to_string()).await?;
        }
        self.limits.check(Bucket::PasswordReset, &email).await?;
        // A bot has no password to reset, and its address is a made-up one.
        let found = self.store.user_by_email(&email).await?.filter(|u| !u.is_bot);
        let Some(user) = found else { return Ok(()) };
        let (token, now) = (password::new_token(), crate::now_ms());
        let expires_at = now + Self::RESET_MINUTES * 60_000;
        self.store.create_password_reset(&password::token_digest(&token), user.id, now, expires_at).await?;
        let link = format!("{}/reset-password?token={token}", self.public_url);
        let mail = crate::mail::password_reset(&user.display_name, &link, Self::RESET_MINUTES);
        match self.queue_email(&user.email, mail).await {
            // The per-address limit answers like any other request.
            Err(Error::RateLimited(_)) => Ok(()),
            other => other,
        }
    }

    /// Sets a new password with a reset link: once, before it expires. Every
    /// session and token of the account ends.
    pub async fn reset_password(&self, token: &str, new: &str) -> Result<User> {
        let new = Password::parse(new).map_err(|e| rename_field(e, "new_password"))?;
        let user = self
            .store
            .take_password_reset(&password::token_digest(token.trim()), crate::now_ms())
            .await?
            .ok_or_else(|| {
                Error::forbidden("This reset link has expired or was used already. Ask for a new one.")
            })?;
        let hash = self.limits.hash(move || password::hash_password(new.expose())).await??;
        self.store.set_password_hash(user, &hash).await?;
        self.sign_out_everywhere(user, None).await?;
        let user = self.store.user(user).await?.ok_or(Error::NotFound(Thing::User))?;
        self.limits.sign_in_succeeded(&user.username).await;
        Ok(user)
    }

    pub async fn user(&self, id: Id) -> Result<Option<User>> {
        self.store.user(id).await
    }
}

/// A password error about the new password names the field it came from.
fn rename_field(e: Error, field: &'static str) -> Error {
    match e {
        Error::Invalid { message, .. } => Error::Invalid { field, message },
        other => other,
    }
}
