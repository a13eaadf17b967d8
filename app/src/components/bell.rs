//! The notification bell: the unread count, live, and the newest
//! notifications; opening one marks it read and goes where it leads.

use crate::api::{bell, mark_all_notifications_read, mark_notification_read};
use crate::wire::NotificationDto;
use leptos::prelude::*;

#[component]
pub fn NotificationBell() -> impl IntoView {
    let unread = RwSignal::new(0i64);
    let items: RwSignal<Vec<NotificationDto>> = RwSignal::new(Vec::new());
    #[cfg(feature = "hydrate")]
    {
        use crate::live::{LiveEvent, subscribe};
        use crate::wire::GatewayEvent as G;
        let load = move || {
            leptos::task::spawn_local(async move {
                if let Ok(b) = bell().await {
                    unread.set(b.unread_count);
                    items.set(b.items);
                }
            })
        };
        let sub = subscribe(move |event| match event {
            LiveEvent::Connected => load(),
            LiveEvent::Gateway(G::NotificationCreate { notification }) => {
                if !notification.is_read {
                    unread.update(|n| *n += 1);
                }
                items.update(|list| {
                    list.retain(|n| n.id != notification.id);
                    list.insert(0, notification.clone());
                    list.truncate(50);
                });
            }
            // Read on another page: the count and list are read again.
            LiveEvent::Gateway(G::NotificationsRead { .. }) => load(),
            _ => {}
        });
        on_cleanup(move || sub.cancel());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (bell, items);
    let open = move |n: NotificationDto| {
        let id = n.id.clone();
        if !n.is_read {
            items.update(|list| {
                if let Some(x) = list.iter_mut().find(|x| x.id == id) {
                    x.is_read = true;
                }
            });
            unread.update(|c| *c = (*c - 1).max(0));
            leptos::task::spawn_local(async move {
                let _ = mark_notification_read(id).await;
            });
        }
    };
    let read_all = move |_| {
        items.update(|list| list.iter_mut().for_each(|n| n.is_read = true));
        unread.set(0);
        leptos::task::spawn_local(async move {
            let _ = mark_all_notifications_read().await;
        });
    };
    let label = move || match unread.get() {
        0 => "Notifications".to_string(),
        1 => "Notifications, 1 unread".to_string(),
        n => format!("Notifications, {n} unread"),
    };
    view! {
        <details class="bell">
            <summary aria-label=label>
                <span aria-hidden="true">"🔔"</span>
                {move || (unread.get() > 0).then(|| view! { <span class="badge unread-count" aria-hidden="true">{unread.get()}</span> })}
            </summary>
            <div class="bell-panel" role="region" aria-label="Notifications">
                <div class="bell-head">
                    <strong>"Notifications"</strong>
                    <button type="button" class="link" on:click=read_all disabled=move || unread.get() == 0>"Mark all read"</button>
                </div>
                {move || {
                    let list = items.get();
                    if list.is_empty() {
                        return view! { <p class="empty">"Nothing yet."</p> }.into_any();
                    }
                    view! {
                        <ul class="notification-list">
                            {list.into_iter().map(|n| {
                                let href = n.url.clone().unwrap_or_default();
                                let item = n.clone();
                                view! {
                                    <li class="notification" class:unread=!n.is_read data-type=n.kind.clone()>
                                        <a href=href on:click=move |_| open(item.clone())>
                                            <span class="notification-title">{n.title.clone()}</span>
                                            <span class="notification-content">{n.content.clone()}</span>
                                        </a>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </div>
        </details>
    }
}
