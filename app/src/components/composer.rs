use crate::api::PostMessage;
use crate::components::errors::{FieldError, field_error, form_error};
use crate::wire::MessageDto;
use leptos::prelude::*;

/// A fresh idempotency key for the next message.
pub fn new_nonce() -> String {
    #[cfg(feature = "hydrate")]
    {
        let a = (js_sys::Math::random() * 9.0e15) as u64;
        let b = js_sys::Date::now() as u64;
        format!("{b:x}-{a:x}")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        #[cfg(feature = "ssr")]
        {
            format!("s-{}", domain::Id::new())
        }
        #[cfg(not(feature = "ssr"))]
        {
            String::from("n")
        }
    }
}

/// The message box. Enter sends, Shift+Enter starts a new line. Without
/// JavaScript it is a plain form that posts and comes back to the channel.
#[component]
pub fn Composer(channel_id: String, channel_name: String, on_sent: Callback<MessageDto>) -> impl IntoView {
    let post = ServerAction::<PostMessage>::new();
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let nonce_ref = NodeRef::<leptos::html::Input>::new();
    let body_ref = NodeRef::<leptos::html::Textarea>::new();
    let value = post.value();
    Effect::new(move |_| {
        if let Some(Ok(msg)) = value.get() {
            on_sent.run(msg);
            if let Some(form) = form_ref.get_untracked() {
                form.reset();
            }
            if let Some(nonce) = nonce_ref.get_untracked() {
                nonce.set_value(&new_nonce());
            }
            if let Some(body) = body_ref.get_untracked() {
                let _ = body.focus();
            }
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            if post.pending().get_untracked() {
                return;
            }
            if let Some(form) = form_ref.get_untracked() {
                let _ = form.request_submit();
            }
        }
    };
    // Tell the channel we are typing, at most every 3 seconds.
    let last_typing = StoredValue::new(0.0_f64);
    let typing_channel = channel_id.clone();
    let on_input = move |_ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let now = js_sys::Date::now();
            if now - last_typing.get_value() > 3000.0 {
                last_typing.set_value(now);
                crate::live::send(&crate::wire::GatewayCommand::Typing {
                    channel_id: typing_channel.clone(),
                });
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&typing_channel, last_typing);
    };
    let label = format!("Message #{channel_name}");
    view! {
        <ActionForm action=post node_ref=form_ref attr:class="composer" attr:aria-label="Send a message">
            <input type="hidden" name="channel_id" value=channel_id />
            <input type="hidden" name="nonce" value=new_nonce() node_ref=nonce_ref />
            <label for="composer-body" class="visually-hidden">{label.clone()}</label>
            <textarea id="composer-body" name="body" rows="2" placeholder=label node_ref=body_ref
                on:keydown=on_keydown on:input=on_input aria-describedby="composer-error"></textarea>
            <button type="submit" disabled=move || post.pending().get()>"Send"</button>
            <FieldError id="composer-error" message=move || field_error(value, "body")().or_else(form_error(value)) />
        </ActionForm>
    }
}
