//! The way from a gateway connection to its call: the call commands, and
//! where each is applied. A call runs on one node (its SFU has every
//! participant's peer connection); with one node that is this one, with
//! several ([`super::relay`]) a connection whose call runs elsewhere has its
//! commands carried there and the call's signalling carried back.

use super::relay::Relay;
use super::sfu::{Outbox, Sfu};
use app::wire::{ApiError, GatewayCommand};
use domain::Id;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A gateway command about a call, parsed, as the call's node applies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallCommand {
    Join { channel: Id },
    Leave,
    Answer { sdp: String },
    Candidate { candidate: String, sdp_mid: Option<String>, sdp_mline_index: Option<u16> },
    Screen { sharing: bool },
    Record { recording: bool },
    SelfState { muted: bool, camera: bool },
    Mute { channel: Id, user: Id, muted: bool },
}

impl CallCommand {
    /// The call command `command` is; `None` for any other command.
    pub fn from_gateway(command: &GatewayCommand) -> Option<Result<CallCommand, ApiError>> {
        use app::ssr::parse_id;
        let parsed = match command {
            GatewayCommand::VoiceJoin { channel_id } => {
                parse_id("channel_id", channel_id).map(|channel| CallCommand::Join { channel })
            }
            GatewayCommand::VoiceLeave => Ok(CallCommand::Leave),
            GatewayCommand::RtcAnswer { sdp } => Ok(CallCommand::Answer { sdp: sdp.clone() }),
            GatewayCommand::RtcCandidate(c) => Ok(CallCommand::Candidate {
                candidate: c.candidate.clone(),
                sdp_mid: c.sdp_mid.clone(),
                sdp_mline_index: c.sdp_mline_index,
            }),
            GatewayCommand::VoiceScreen { sharing } => Ok(CallCommand::Screen { sharing: *sharing }),
            GatewayCommand::VoiceRecord { recording } => Ok(CallCommand::Record { recording: *recording }),
            GatewayCommand::VoiceSelf { muted, camera } => {
                Ok(CallCommand::SelfState { muted: *muted, camera: *camera })
            }
            GatewayCommand::VoiceMute { channel_id, user_id, muted } => parse_id("channel_id", channel_id)
                .and_then(|channel| {
                    let user = parse_id("user_id", user_id)?;
                    Ok(CallCommand::Mute { channel, user, muted: *muted })
                }),
            _ => return None,
        };
        Some(parsed)
    }

    /// Its name on the wire, for `COMMAND_ERROR`.
    pub fn wire_name(&self) -> &'static str {
        match self {
            CallCommand::Join { .. } => "VOICE_JOIN",
            CallCommand::Leave => "VOICE_LEAVE",
            CallCommand::Answer { .. } => "RTC_ANSWER",
            CallCommand::Candidate { .. } => "RTC_CANDIDATE",
            CallCommand::Screen { .. } => "VOICE_SCREEN",
            CallCommand::Record { .. } => "VOICE_RECORD",
            CallCommand::SelfState { .. } => "VOICE_SELF",
            CallCommand::Mute { .. } => "VOICE_MUTE",
        }
    }
}

/// Where a connection's call commands go: this node's SFU, or the node
/// that runs the call.
#[derive(Clone)]
pub struct Calls {
    sfu: Sfu,
    relay: Option<Arc<Relay>>,
}

impl Calls {
    /// Every call on this node (one node, or Redis not configured).
    pub fn here(sfu: Sfu) -> Self {
        Calls { sfu, relay: None }
    }

    /// Each call on the node that runs it, found and reached through `relay`.
    pub fn relayed(sfu: Sfu, relay: Arc<Relay>) -> Self {
        Calls { sfu, relay: Some(relay) }
    }

    /// Applies `command` of connection `session` (of `user`), whose call
    /// signalling goes to `out`. An error from another node arrives on
    /// `out` as `COMMAND_ERROR` instead of being returned.
    pub async fn apply(
        &self,
        session: u64,
        user: Id,
        command: CallCommand,
        out: &Outbox,
    ) -> Result<(), ApiError> {
        match &self.relay {
            Some(relay) => relay.apply(session, user, command, out).await,
            None => self.sfu.apply(session, user, command, out).await,
        }
    }

    /// Connection `session` closed: it leaves its call, wherever that runs.
    pub async fn ended(&self, session: u64, user: Id, out: &Outbox) {
        let _ = self.apply(session, user, CallCommand::Leave, out).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_commands_are_parsed_from_the_gateways() {
        let join = GatewayCommand::VoiceJoin { channel_id: "42".into() };
        assert_eq!(CallCommand::from_gateway(&join), Some(Ok(CallCommand::Join { channel: Id(42) })));
        let bad = GatewayCommand::VoiceMute { channel_id: "42".into(), user_id: "x".into(), muted: true };
        assert!(matches!(CallCommand::from_gateway(&bad), Some(Err(_))));
        assert_eq!(CallCommand::from_gateway(&GatewayCommand::Ping), None);
        assert_eq!(CallCommand::Mute { channel: Id(1), user: Id(2), muted: true }.wire_name(), "VOICE_MUTE");
    }
}
