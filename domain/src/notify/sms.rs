//! SMS through a provider's HTTP API. The one implementation speaks
//! Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`,
//! a form with `To`, `From` and `Body`, HTTP basic auth with the account SID
//! and auth token), which other providers also offer; the base URL is
//! configurable. Without configuration SMS is unavailable.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// `https://api.twilio.com` or a compatible provider.
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// The sending number (E.164) or sender id.
    pub from: String,
}

/// Why an SMS was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("the SMS provider refused the message: {0}")]
    Rejected(String),
    #[error("the SMS provider could not be reached or asked to retry: {0}")]
    Temporary(String),
}

impl SmsError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SmsError::Rejected(_))
    }
}

/// Sends SMS through the configured provider.
#[derive(Clone)]
pub struct SmsSender {
    client: reqwest::Client,
    config: SmsConfig,
    guard: crate::outgoing::Guard,
}

/// The most characters an SMS body carries here (two concatenated parts).
pub const MAX_BODY: usize = 300;

impl SmsSender {
    /// Sends through `config`'s provider; its address passes `guard` (the
    /// outgoing-request check) before each message.
    pub fn new(config: SmsConfig, guard: crate::outgoing::Guard) -> Self {
        SmsSender { client: guard.client(Duration::from_secs(30)), config, guard }
    }

    pub async fn send(&self, to: &str, body: &str) -> Result<(), SmsError> {
        let c = &self.config;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            c.base_url.trim_end_matches('/'),
            c.account_sid
        );
        let url = self.guard.check(&url).map_err(|e| SmsError::Rejected(e.to_string()))?;
        let body: String = body.chars().take(MAX_BODY).collect();
        let res = self
            .client
            .post(url)
            .basic_auth(&c.account_sid, Some(&c.auth_token))
            .form(&[("To", to), ("From", c.from.as_str()), ("Body", body.as_str())])
            .send()
            .await
            .map_err(|e| SmsError::Temporary(e.to_string()))?;
        let status = res.status().as_u16();
        match status {
            200..=299 => Ok(()),
            429 | 500..=599 => Err(SmsError::Temporary(format!("HTTP {status}"))),
            _ => {
                let text = res.text().await.unwrap_or_default();
                Err(SmsError::Rejected(format!(
                    "HTTP {status} {}",
                    text.chars().take(200).collect::<String>()
                )))
            }
        }
    }
}

/// A phone number in E.164 form (`+` and 8 to 15 digits), spaces and
/// dashes removed, or `None`.
pub fn parse_phone(s: &str) -> Option<String> {
    let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
    let digits = compact.strip_prefix('+')?;
    (digits.len() >= 8
        && digits.len() <= 15
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0'))
    .then_some(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_e164() {
        assert_eq!(parse_phone("+44 20 7946 0958").as_deref(), Some("+442079460958"));
        assert_eq!(parse_phone("+1 (415) 555-0100").as_deref(), Some("+14155550100"));
        assert_eq!(parse_phone("020 7946 0958"), None);
        assert_eq!(parse_phone("+0123456789"), None);
        assert_eq!(parse_phone("+12"), None);
    }
}
