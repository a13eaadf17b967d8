//! A destructive action that asks first.

use leptos::prelude::*;

/// A destructive action that asks first: `action…` opens a box saying
/// `what` it will do, holding the form that does it (`children`), so that
/// nothing happens on the first click, with or without JavaScript.
/// `opens` places the box where there is room: `"left"` (the default, for
/// actions at the end of a row) or `"up"` (for actions at the foot of the
/// sidebar).
#[component]
pub fn Confirm(
    action: &'static str,
    #[prop(into)] what: String,
    #[prop(optional)] opens: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let class = match opens {
        Some(side) => format!("confirm opens-{side}"),
        None => "confirm".to_string(),
    };
    view! {
        <details class=class>
            <summary>{action} "…"</summary>
            <div class="confirm-box">
                <p>{what}</p>
                {children()}
            </div>
        </details>
    }
}
