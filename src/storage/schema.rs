// @generated automatically by Diesel CLI.

diesel::table! {
    account_devices (account_id, device_hash) {
        account_id -> Uuid,
        device_hash -> Bytea,
        first_seen_at -> Timestamptz,
        last_seen_at -> Timestamptz,
    }
}

diesel::table! {
    account_addresses (account_id) {
        account_id -> Uuid,
        address -> Jsonb,
        source -> Text,
        verified_at -> Timestamptz,
    }
}

diesel::table! {
    accounts (id) {
        id -> Uuid,
        national_id -> Text,
        full_name -> Text,
        date_of_birth -> Date,
        sex -> Text,
        email -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamptz>,
        phone -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        password_changed_at -> Nullable<Timestamptz>,
        assurance_level -> Int2,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        phone_verified_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    agencies (code) {
        code -> Text,
        name -> Text,
        parent_code -> Nullable<Text>,
        tier -> Text,
        abbreviation -> Nullable<Text>,
        address -> Text,
        email -> Nullable<Text>,
        working_hours -> Jsonb,
        sample -> Bool,
        updated_at -> Timestamptz,
        hours_changed_by -> Nullable<Uuid>,
        hours_changed_at -> Nullable<Timestamptz>,
        staff_passkeys_required -> Bool,
    }
}

diesel::table! {
    agency_days (agency_code, day) {
        agency_code -> Text,
        day -> Date,
        kind -> Text,
        name -> Text,
        changed_by -> Uuid,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Date,
        kind -> Text,
        name -> Text,
    }
}

diesel::table! {
    services (code) {
        code -> Text,
        name -> Text,
        search_text -> Text,
        field -> Text,
        agency_levels -> Array<Text>,
        service_level -> Text,
        processing_days -> Int4,
        fee_vnd -> Nullable<Int8>,
        fee_note -> Nullable<Text>,
        required_documents -> Jsonb,
        result_type -> Jsonb,
        form -> Jsonb,
        sample -> Bool,
        updated_at -> Timestamptz,
        fee_stage -> Text,
        national_code -> Nullable<Text>,
    }
}

diesel::table! {
    service_agencies (service_code, agency_code) {
        service_code -> Text,
        agency_code -> Text,
        offered -> Bool,
        changed_by -> Nullable<Uuid>,
        changed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    dossiers (id) {
        id -> Uuid,
        service_code -> Text,
        agency_code -> Text,
        applicant_id -> Uuid,
        business_id -> Nullable<Uuid>,
        status -> Text,
        status_code -> Int2,
        channel -> Text,
        form_values -> Jsonb,
        version -> Int4,
        receipt_code -> Nullable<Text>,
        submitted_at -> Nullable<Timestamptz>,
        accepted_at -> Nullable<Timestamptz>,
        due_at -> Nullable<Timestamptz>,
        paused_at -> Nullable<Timestamptz>,
        decided_at -> Nullable<Timestamptz>,
        decision -> Nullable<Text>,
        queue_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        value_sources -> Jsonb,
    }
}

diesel::table! {
    receipt_counters (agency_code, day) {
        agency_code -> Text,
        day -> Date,
        last -> Int4,
    }
}

diesel::table! {
    dossier_events (dossier_id, seq) {
        dossier_id -> Uuid,
        seq -> Int4,
        at -> Timestamptz,
        actor_kind -> Text,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        note -> Nullable<Text>,
        visible -> Bool,
        hash -> Bytea,
    }
}

diesel::table! {
    idempotency_keys (account_id, key) {
        account_id -> Uuid,
        key -> Text,
        request_hash -> Bytea,
        status -> Int2,
        response -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    apology_letters (id) {
        id -> Uuid,
        dossier_id -> Uuid,
        agency_code -> Text,
        missed_due -> Timestamptz,
        new_due -> Timestamptz,
        reason -> Nullable<Text>,
        status -> Text,
        drafted_at -> Timestamptz,
        approved_by -> Nullable<Uuid>,
        approved_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    dossier_files (id) {
        id -> Uuid,
        dossier_id -> Uuid,
        name -> Text,
        content_type -> Text,
        size -> Int8,
        sha256 -> Bytea,
        document_type -> Nullable<Text>,
        uploaded_at -> Timestamptz,
    }
}

diesel::table! {
    auth_events (id) {
        id -> Uuid,
        account_id -> Uuid,
        kind -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        detail -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    business_authorizations (id) {
        id -> Uuid,
        business_id -> Uuid,
        account_id -> Uuid,
        granted_by -> Uuid,
        valid_until -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    businesses (id) {
        id -> Uuid,
        tax_code -> Text,
        name -> Text,
        address -> Text,
        representative_id -> Uuid,
        created_at -> Timestamptz,
        status -> Text,
        desk_agency_code -> Nullable<Text>,
        decided_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Uuid>,
        decided_agency_code -> Nullable<Text>,
        decision_evidence -> Nullable<Text>,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Bytea,
        account_id -> Uuid,
        purpose -> Text,
        email -> Text,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        previous_phone -> Nullable<Text>,
        previous_phone_verified_at -> Nullable<Timestamptz>,
    }
}

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
    federated_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        account_id -> Uuid,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
    }
}

diesel::table! {
    identity_verifications (id) {
        id -> Uuid,
        account_id -> Uuid,
        method -> Text,
        verified_by -> Nullable<Uuid>,
        agency_code -> Nullable<Text>,
        evidence -> Nullable<Text>,
        created_at -> Timestamptz,
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

diesel::table! {
    staff (id) {
        id -> Uuid,
        username -> Text,
        full_name -> Text,
        agency_code -> Text,
        roles -> Array<Text>,
        password_hash -> Text,
        totp_secret -> Nullable<Text>,
        totp_last_step -> Nullable<Int8>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    staff_recovery_codes (staff_id, code_hash) {
        staff_id -> Uuid,
        code_hash -> Bytea,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    oidc_clients (client_id) {
        client_id -> Text,
        secret_hash -> Nullable<Bytea>,
        redirect_uris -> Array<Text>,
        post_logout_redirect_uris -> Array<Text>,
        scopes -> Array<Text>,
        subject_type -> Text,
        created_at -> Timestamptz,
        auth_method -> Text,
        jwks -> Nullable<Jsonb>,
        id_token_alg -> Text,
        require_par -> Bool,
        sector_identifier -> Nullable<Text>,
        backchannel_logout_uri -> Nullable<Text>,
        resource_audience -> Nullable<Text>,
        client_name -> Nullable<Text>,
        logo_uri -> Nullable<Text>,
        policy_uri -> Nullable<Text>,
        dpop -> Text,
        profile -> Text,
        pkce_required -> Bool,
    }
}

diesel::table! {
    oidc_consents (account_id, client_id) {
        account_id -> Uuid,
        client_id -> Text,
        scopes -> Array<Text>,
        granted_at -> Timestamptz,
    }
}

diesel::table! {
    oidc_refresh_tokens (id) {
        id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        client_id -> Text,
        account_id -> Uuid,
        scopes -> Array<Text>,
        auth_time -> Timestamptz,
        level -> Int2,
        amr -> Array<Text>,
        sid -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        acting_for -> Nullable<Uuid>,
        dpop_jkt -> Nullable<Text>,
    }
}

diesel::table! {
    oidc_revoked_access_tokens (jti_hash) {
        jti_hash -> Bytea,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    oidc_used_codes (code_hash) {
        code_hash -> Bytea,
        family_id -> Uuid,
        account_id -> Uuid,
        access_jti_hash -> Bytea,
        access_expires_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    oidc_assertion_jtis (jti_hash) {
        jti_hash -> Bytea,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    oidc_session_clients (sid, client_id) {
        sid -> Text,
        client_id -> Text,
        account_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    oidc_provider_secrets (name) {
        name -> Text,
        sealed -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    oidc_signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        private_key -> Text,
        public_jwk -> Jsonb,
        created_at -> Timestamptz,
        activates_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    phone_verifications (account_id) {
        account_id -> Uuid,
        phone -> Text,
        code_hash -> Bytea,
        attempts -> Int4,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sms_messages (id) {
        id -> Uuid,
        recipient -> Text,
        account_id -> Nullable<Uuid>,
        template -> Text,
        body -> Nullable<Text>,
        sensitive -> Bool,
        status -> Text,
        attempts -> Int4,
        last_response -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(account_addresses -> accounts (account_id));
diesel::joinable!(service_agencies -> agencies (agency_code));
diesel::joinable!(dossier_events -> dossiers (dossier_id));
diesel::joinable!(apology_letters -> dossiers (dossier_id));
diesel::joinable!(dossier_files -> dossiers (dossier_id));
diesel::joinable!(dossiers -> services (service_code));
diesel::joinable!(dossiers -> agencies (agency_code));
diesel::joinable!(service_agencies -> services (service_code));
diesel::joinable!(account_devices -> accounts (account_id));
diesel::joinable!(auth_events -> accounts (account_id));
diesel::joinable!(business_authorizations -> businesses (business_id));
diesel::joinable!(email_tokens -> accounts (account_id));
diesel::joinable!(federated_identities -> accounts (account_id));
diesel::joinable!(identity_verifications -> accounts (account_id));
diesel::joinable!(job_attempts -> jobs (job_id));
diesel::joinable!(oidc_consents -> accounts (account_id));
diesel::joinable!(oidc_consents -> oidc_clients (client_id));
diesel::joinable!(oidc_refresh_tokens -> accounts (account_id));
diesel::joinable!(oidc_refresh_tokens -> oidc_clients (client_id));
diesel::joinable!(oidc_session_clients -> oidc_clients (client_id));
diesel::joinable!(oidc_used_codes -> accounts (account_id));
diesel::joinable!(phone_verifications -> accounts (account_id));
diesel::joinable!(staff_recovery_codes -> staff (staff_id));

diesel::table! {
    master_key_checks (key_id) {
        key_id -> Text,
        canary -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    agency_signing_keys (id) {
        id -> Uuid,
        agency_code -> Text,
        algorithm -> Text,
        public_key -> Bytea,
        private_key -> Text,
        created_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    vault_records (id) {
        id -> Uuid,
        account_id -> Nullable<Uuid>,
        business_id -> Nullable<Uuid>,
        record_type -> Text,
        data_key -> Text,
        payload -> Bytea,
        provenance -> Text,
        source_agency_code -> Nullable<Text>,
        source_dossier_id -> Nullable<Uuid>,
        verified -> Bool,
        issued_at -> Timestamptz,
        valid_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        superseded_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    vault_documents (id) {
        id -> Uuid,
        account_id -> Nullable<Uuid>,
        business_id -> Nullable<Uuid>,
        document_type -> Text,
        satisfies -> Array<Text>,
        title -> Text,
        file_name -> Text,
        content_type -> Text,
        size -> Int8,
        sha256 -> Bytea,
        data_key -> Text,
        status -> Text,
        issuer_agency_code -> Nullable<Text>,
        source_dossier_id -> Nullable<Uuid>,
        receipt_code -> Nullable<Text>,
        issued_at -> Nullable<Timestamptz>,
        valid_until -> Nullable<Timestamptz>,
        signing_key_id -> Nullable<Uuid>,
        signature -> Nullable<Bytea>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    dossier_vault_documents (dossier_id, document_id) {
        dossier_id -> Uuid,
        document_id -> Uuid,
        required_type -> Text,
        attached_at -> Timestamptz,
    }
}

diesel::table! {
    vault_access_log (id) {
        id -> Int8,
        account_id -> Nullable<Uuid>,
        business_id -> Nullable<Uuid>,
        at -> Timestamptz,
        reader_kind -> Text,
        staff_id -> Nullable<Uuid>,
        agency_code -> Nullable<Text>,
        client_id -> Nullable<Text>,
        scope -> Nullable<Text>,
        dossier_id -> Nullable<Uuid>,
        items -> Array<Text>,
        purpose -> Text,
    }
}

diesel::joinable!(dossier_vault_documents -> vault_documents (document_id));
diesel::joinable!(vault_documents -> agency_signing_keys (signing_key_id));
diesel::joinable!(vault_documents -> agencies (issuer_agency_code));

diesel::table! {
    dossier_monthly_stats (agency_code, service_code, month) {
        agency_code -> Text,
        service_code -> Text,
        month -> Date,
        received -> Int8,
        online -> Int8,
        decided -> Int8,
        on_time -> Int8,
        overdue -> Int8,
    }
}

diesel::table! {
    stats_refreshes (name) {
        name -> Text,
        refreshed_at -> Timestamptz,
    }
}

diesel::table! {
    staff_events (id) {
        id -> Uuid,
        agency_code -> Text,
        staff_id -> Uuid,
        kind -> Text,
        dossier_id -> Nullable<Uuid>,
        subject -> Nullable<Text>,
        detail -> Jsonb,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(staff_events -> staff (staff_id));

diesel::table! {
    passkey_owners (user_handle) {
        user_handle -> Uuid,
        account_id -> Nullable<Uuid>,
        staff_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Uuid,
        user_handle -> Uuid,
        credential_id -> Bytea,
        name -> Text,
        credential -> Jsonb,
        sign_count -> Int8,
        synced -> Bool,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(passkeys -> passkey_owners (user_handle));

diesel::table! {
    webhook_subscribers (id) {
        id -> Uuid,
        name -> Text,
        url -> Text,
        secret -> Text,
        services -> Array<Text>,
        agencies -> Array<Text>,
        event_types -> Array<Text>,
        personal_data -> Bool,
        state -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        subscriber_id -> Uuid,
        dossier_id -> Uuid,
        seq -> Int4,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
        attempts -> Int4,
        last_outcome -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_attempts (delivery_id, attempt) {
        delivery_id -> Uuid,
        attempt -> Int4,
        at -> Timestamptz,
        http_status -> Nullable<Int2>,
        error -> Nullable<Text>,
        duration_ms -> Int4,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_subscribers (subscriber_id));
diesel::joinable!(webhook_deliveries -> dossiers (dossier_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    account_addresses,
    agency_days,
    staff_events,
    account_devices,
    accounts,
    agencies,
    apology_letters,
    calendar_days,
    dossiers,
    dossier_events,
    dossier_files,
    receipt_counters,
    idempotency_keys,
    services,
    service_agencies,
    auth_events,
    business_authorizations,
    businesses,
    email_tokens,
    emails,
    federated_identities,
    identity_verifications,
    job_attempts,
    jobs,
    oidc_clients,
    oidc_consents,
    oidc_refresh_tokens,
    oidc_session_clients,
    oidc_provider_secrets,
    oidc_signing_keys,
    oidc_revoked_access_tokens,
    oidc_used_codes,
    oidc_assertion_jtis,
    phone_verifications,
    sms_messages,
    staff,
    staff_recovery_codes,
    master_key_checks,
    agency_signing_keys,
    vault_records,
    vault_documents,
    dossier_vault_documents,
    vault_access_log,
    dossier_monthly_stats,
    stats_refreshes,
    passkey_owners,
    passkeys,
    webhook_subscribers,
    webhook_deliveries,
    webhook_attempts,
    national_portal_syncs,
    national_portal_backlog,
    national_portal_supplements,
    fee_requests,
    payments,
    payment_callbacks,
);

diesel::table! {
    fee_requests (id) {
        id -> Uuid,
        dossier_id -> Uuid,
        amount_vnd -> Int8,
        stage -> Text,
        description -> Text,
        requested_at -> Timestamptz,
        paid_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    payments (id) {
        id -> Uuid,
        fee_request_id -> Uuid,
        dossier_id -> Uuid,
        payer_id -> Uuid,
        amount_vnd -> Int8,
        channel -> Text,
        status -> Text,
        transaction_id -> Text,
        platform_transaction_id -> Nullable<Text>,
        payment_url -> Nullable<Text>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        settled_at -> Nullable<Timestamptz>,
        receipt_document_id -> Nullable<Uuid>,
        recorded_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    payment_callbacks (id) {
        id -> Int8,
        received_at -> Timestamptz,
        transaction_id -> Nullable<Text>,
        outcome -> Text,
        detail -> Text,
    }
}

diesel::table! {
    national_portal_syncs (dossier_id) {
        dossier_id -> Uuid,
        agency_code -> Text,
        acked_seq -> Int4,
        record_seq -> Int4,
        failed_at -> Nullable<Timestamptz>,
        failure -> Nullable<Text>,
        retries -> Int4,
        last_error -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    national_portal_backlog (dossier_id) {
        dossier_id -> Uuid,
        logged_seq -> Int4,
        logged_at -> Timestamptz,
    }
}

diesel::table! {
    national_portal_supplements (dossier_id, requested_seq) {
        dossier_id -> Uuid,
        requested_seq -> Int4,
        requested_at -> Timestamptz,
        due_before -> Nullable<Timestamptz>,
        supplied_seq -> Nullable<Int4>,
        supplied_at -> Nullable<Timestamptz>,
        due_after -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(national_portal_syncs -> dossiers (dossier_id));
diesel::joinable!(national_portal_backlog -> dossiers (dossier_id));
diesel::joinable!(national_portal_supplements -> dossiers (dossier_id));
