-- Analytics: messages counted by channel and day, and who posted on which
-- day in which workspace. A worker adds the messages written since it last
-- ran (a minute behind, so that none still being committed is passed
-- over), so figures read these small tables however many messages there
-- are, and keep counting what retention has removed since.
CREATE TABLE activity_daily (
    channel_id   BIGINT NOT NULL,
    day          BIGINT NOT NULL,
    workspace_id BIGINT NOT NULL,
    messages     BIGINT NOT NULL,
    replies      BIGINT NOT NULL,
    PRIMARY KEY (channel_id, day)
);
CREATE INDEX activity_daily_workspace ON activity_daily(workspace_id, day);
CREATE INDEX activity_daily_day ON activity_daily(day);

-- People (not bots) who posted in a workspace on a day.
CREATE TABLE activity_people (
    workspace_id BIGINT NOT NULL,
    day          BIGINT NOT NULL,
    user_id      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, day, user_id)
);
CREATE INDEX activity_people_day ON activity_people(day, user_id);
