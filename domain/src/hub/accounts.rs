use super::Hub;
use crate::error::{Error, Result};
use crate::id::Id;
use crate::input::{DisplayName, Email, Password, Username};
use crate::limits::Bucket;
use crate::model::User;
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
            self.limits.check(Bucket::Signup, &address.to_string())?;
        }
        let hash = self.limits.hash(move || password::hash_password(pw.expose())).await??;
        let user = User {
            id: Id::new(),
            username: username.into_inner(),
            display_name: display_name.into_inner(),
            email: email.into_inner(),
            created_at: crate::now_ms(),
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
            self.limits.check(Bucket::Login, &address.to_string())?;
        }
        let username = username.trim().to_lowercase();
        self.limits.sign_ins().check(&username).map_err(Error::RateLimited)?;
        let found = self.store.credentials(&username).await?;
        let (user, hash) = match found {
            Some((u, h)) => (Some(u), h),
            None => (None, password::dummy_hash().to_string()),
        };
        let pw = password.to_string();
        let ok = self.limits.hash(move || password::verify_password(&pw, &hash)).await?;
        match user {
            Some(u) if ok => {
                self.limits.sign_ins().succeeded(&username);
                Ok(u)
            }
            _ => {
                self.limits.sign_ins().failed(&username);
                Err(Error::BadCredentials)
            }
        }
    }

    /// Issues a new API token for `user`; only its digest is stored.
    pub async fn issue_token(&self, user: Id) -> Result<String> {
        let token = password::new_token();
        self.store.create_token(user, &password::token_digest(&token), crate::now_ms()).await?;
        Ok(token)
    }

    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        self.store.user_by_token(&password::token_digest(token)).await
    }

    pub async fn revoke_token(&self, token: &str) -> Result<()> {
        self.store.delete_token(&password::token_digest(token)).await
    }

    pub async fn user(&self, id: Id) -> Result<Option<User>> {
        self.store.user(id).await
    }
}
