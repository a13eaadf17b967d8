use crate::api::{FollowThread, thread_view};
use crate::components::composer::Composer;
use crate::components::errors::{FieldError, form_error};
#[cfg(feature = "hydrate")]
use crate::components::message_list::apply_message_event;
use crate::components::message_list::{ListContext, MessageList, merge_messages};
use crate::wire::{ApiError, MessageDto, ThreadDto, UserDto};
use leptos::prelude::*;

/// The open thread (none while no thread is open), loaded again when
/// another opens.
pub type ThreadData = Resource<Result<Option<ThreadDto>, ApiError>, crate::codec::Json>;

/// The data of the thread `thread_id` names, for a [`ThreadPanel`]. The
/// page creates it in its own component, as every page's data (see
/// [`crate::codec::page_data`]).
pub fn thread_data(thread_id: Signal<Option<String>>) -> ThreadData {
    crate::codec::page_data(
        move || thread_id.get(),
        |id| async move {
            match id {
                Some(id) => thread_view(id).await.map(Some),
                None => Ok(None),
            }
        },
    )
}

/// A thread beside its channel: the first message, the replies, a box to
/// reply, and follow/unfollow. Its data ([`thread_data`]) is apart from the
/// channel's, so opening a thread does not reload the channel.
#[component]
pub fn ThreadPanel(
    data: ThreadData,
    workspace_id: String,
    channel_id: String,
    me_id: String,
    can_post: bool,
    people: Signal<Vec<UserDto>>,
) -> impl IntoView {
    let follow = ServerAction::<FollowThread>::new();
    let close_href = crate::paths::channel(&workspace_id, &channel_id);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading thread…"</p> }>
            {
                let (workspace_id, channel_id, me_id, close_href) =
                    (workspace_id.clone(), channel_id.clone(), me_id.clone(), close_href.clone());
                move || {
                    let (workspace_id, channel_id, me_id, close_href) =
                        (workspace_id.clone(), channel_id.clone(), me_id.clone(), close_href.clone());
                    Suspend::new(async move {
                        match data.await {
                            Ok(Some(thread)) => view! {
                                <ThreadBody thread workspace_id channel_id me_id can_post people follow close_href />
                            }
                            .into_any(),
                            Ok(None) => ().into_any(),
                            Err(e) => view! {
                                <section class="thread-panel" aria-label="Thread">
                                    <p class="field-error" role="alert">{e.message}</p>
                                    <a href=close_href>"Close"</a>
                                </section>
                            }
                            .into_any(),
                        }
                    })
                }
            }
        </Transition>
    }
}

#[component]
fn ThreadBody(
    thread: ThreadDto,
    workspace_id: String,
    channel_id: String,
    me_id: String,
    can_post: bool,
    people: Signal<Vec<UserDto>>,
    follow: ServerAction<FollowThread>,
    close_href: String,
) -> impl IntoView {
    let ThreadDto { parent, replies, following } = thread;
    let parent_id = parent.id.clone();
    let head = RwSignal::new(vec![parent]);
    let replies = RwSignal::new(replies);
    let older = RwSignal::new(None::<String>);
    let following = RwSignal::new(following);
    let on_sent = Callback::new(move |m: MessageDto| {
        replies.update(|list| merge_messages(list, [m]));
        following.set(true);
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = follow.value().get()
            && let Some(input) = follow.input().get_untracked()
        {
            following.set(input.follow.is_some_and(|v| !v.is_empty() && v != "false"));
        }
    });

    #[cfg(feature = "hydrate")]
    {
        use crate::live::{LiveEvent, subscribe};
        use crate::wire::GatewayEvent as G;
        let thread = parent_id.clone();
        let sub = subscribe(move |event| match event {
            LiveEvent::Gateway(G::MessageCreate { message })
                if message.thread_id.as_deref() == Some(&thread) =>
            {
                replies.update(|list| merge_messages(list, [message.clone()]));
                // Seen while open: the thread stays read.
                let id = thread.clone();
                leptos::task::spawn_local(async move {
                    let _ = crate::api::read_thread(id).await;
                });
            }
            LiveEvent::Gateway(G::ThreadFollowUpdate { thread_id, following: now })
                if *thread_id == thread =>
            {
                following.set(*now);
            }
            LiveEvent::Gateway(e) => {
                head.update(|list| apply_message_event(list, e));
                replies.update(|list| apply_message_event(list, e));
            }
            LiveEvent::Resumed => {}
            LiveEvent::Connected => {
                let id = thread.clone();
                leptos::task::spawn_local(async move {
                    if let Ok(t) = thread_view(id).await {
                        replies.update(|list| merge_messages(list, t.replies));
                    }
                });
            }
        });
        on_cleanup(move || sub.cancel());
    }

    let cx = |threads| ListContext {
        workspace_id: workspace_id.clone(),
        me_id: me_id.clone(),
        can_react: can_post,
        threads,
        focus: None,
        first_unread: None,
    };
    let (head_cx, replies_cx) = (cx(false), cx(false));
    let follow_id = parent_id.clone();
    view! {
        <section class="thread-panel" aria-labelledby="thread-title">
            <header class="thread-head">
                <h2 id="thread-title">"Thread"</h2>
                <ActionForm action=follow attr:class="inline">
                    <input type="hidden" name="message_id" value=follow_id />
                    <input type="hidden" name="follow" value=move || if following.get() { "" } else { "true" } />
                    <button type="submit" class="link follow" aria-pressed=move || if following.get() { "true" } else { "false" }>
                        {move || if following.get() { "Unfollow" } else { "Follow" }}
                    </button>
                </ActionForm>
                <a class="close" href=close_href aria-label="Close thread">"×"</a>
            </header>
            <FieldError id="follow-error" message=form_error(follow.value()) />
            <div class="thread-parent">
                <MessageList messages=head older channel_id=channel_id.clone() label="the thread start".to_string() cx=head_cx />
            </div>
            <p class="reply-count-line">
                {move || match replies.with(Vec::len) { 0 => "No replies yet".to_string(), 1 => "1 reply".to_string(), n => format!("{n} replies") }}
            </p>
            <MessageList messages=replies older channel_id=channel_id.clone() label="thread replies".to_string() cx=replies_cx />
            {can_post.then(|| view! {
                <Composer channel_id=channel_id.clone() label="thread".to_string() thread_id=parent_id.clone() people on_sent />
            })}
        </section>
    }
}
