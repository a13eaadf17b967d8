//! A destructive action that asks first.

use leptos::prelude::*;

/// A destructive action that asks first: `action…` opens a box saying
/// `what` it will do, holding the form that does it (`children`), so that
/// nothing happens on the first click, with or without JavaScript. The
/// box opens leftwards, for actions at the end of a row, or with `up`
/// upwards, for those at the foot of the sidebar.
#[component]
pub fn Confirm(
    action: &'static str,
    #[prop(into)] what: String,
    #[prop(optional)] up: bool,
    children: Children,
) -> impl IntoView {
    let class = if up { "confirm opens-up" } else { "confirm" };
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
