// @generated automatically by Diesel CLI.

diesel::table! {
    emails (id) {
        id -> Uuid,
        message_id -> Text,
        recipient -> Text,
        account_id -> Nullable<Uuid>,
        template -> Text,
        subject -> Text,
        body_text -> Nullable<Text>,
        body_html -> Nullable<Text>,
        sensitive -> Bool,
        status -> Text,
        attempts -> Int4,
        last_response -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    job_attempts (job_id, attempt) {
        job_id -> Int8,
        attempt -> Int4,
        worker -> Text,
        started_at -> Timestamptz,
        finished_at -> Timestamptz,
        outcome -> Text,
        detail -> Text,
    }
}

diesel::table! {
    jobs (id) {
        id -> Int8,
        kind -> Text,
        payload -> Jsonb,
        dedup_key -> Nullable<Text>,
        state -> Text,
        attempts -> Int4,
        max_attempts -> Int4,
        run_at -> Timestamptz,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(job_attempts -> jobs (job_id));

diesel::allow_tables_to_appear_in_same_query!(emails, job_attempts, jobs,);
