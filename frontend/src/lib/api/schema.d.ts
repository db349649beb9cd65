/**
 * Hand-written stand-in for the file `npm run gen:api` generates from the backend's OpenAPI
 * (openapi-typescript 7 output shape). It covers the auth and health endpoints only; once
 * `../var/openapi.json` exists, `npm run gen:api` overwrites this file and nothing else changes,
 * because the app only reads `paths` (never component names).
 */

export interface paths {
    "/api/health": {
        parameters: { query?: never; header?: never; path?: never; cookie?: never };
        /** Health */
        get: operations["health_api_health_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/login": {
        parameters: { query?: never; header?: never; path?: never; cookie?: never };
        get?: never;
        put?: never;
        /** Login */
        post: operations["login_api_auth_login_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/refresh": {
        parameters: { query?: never; header?: never; path?: never; cookie?: never };
        get?: never;
        put?: never;
        /** Refresh */
        post: operations["refresh_api_auth_refresh_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/logout": {
        parameters: { query?: never; header?: never; path?: never; cookie?: never };
        get?: never;
        put?: never;
        /** Logout */
        post: operations["logout_api_auth_logout_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/me": {
        parameters: { query?: never; header?: never; path?: never; cookie?: never };
        /** Me */
        get: operations["me_api_auth_me_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** ErrorEnvelope */
        ErrorEnvelope: {
            /** @default false */
            success: boolean;
            error: string;
            detail: string;
            fields?: components["schemas"]["FieldError"][] | null;
        };
        /** FieldError */
        FieldError: {
            field: string;
            message: string;
        };
        /** HealthOut */
        HealthOut: {
            status: string;
            version: string;
            database: string;
            lab: boolean;
        };
        /** Envelope[HealthOut] */
        Envelope_HealthOut_: {
            /** @default true */
            success: boolean;
            data: components["schemas"]["HealthOut"];
            meta?: { [key: string]: unknown };
        };
        /** LoginIn */
        LoginIn: {
            /** Format: email */
            email: string;
            password: string;
        };
        /** RefreshIn */
        RefreshIn: {
            refresh_token: string;
        };
        /** LogoutIn */
        LogoutIn: {
            refresh_token?: string | null;
        };
        /** TokenOut */
        TokenOut: {
            access_token: string;
            refresh_token: string;
            /**
             * @default bearer
             * @constant
             */
            token_type: "bearer";
            expires_in: number;
        };
        /** Envelope[TokenOut] */
        Envelope_TokenOut_: {
            /** @default true */
            success: boolean;
            data: components["schemas"]["TokenOut"];
            meta?: { [key: string]: unknown };
        };
        /** LoggedOut */
        LoggedOut: {
            /** @default true */
            logged_out: boolean;
        };
        /** Envelope[LoggedOut] */
        Envelope_LoggedOut_: {
            /** @default true */
            success: boolean;
            data: components["schemas"]["LoggedOut"];
            meta?: { [key: string]: unknown };
        };
        /** UserOut */
        UserOut: {
            id: number;
            email: string;
            name: string;
            /** @enum {string} */
            role: "admin" | "operator" | "viewer";
            disabled: boolean;
            /** Format: date-time */
            created_at: string;
            last_login_at: string | null;
        };
        /** Envelope[UserOut] */
        Envelope_UserOut_: {
            /** @default true */
            success: boolean;
            data: components["schemas"]["UserOut"];
            meta?: { [key: string]: unknown };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
type ErrorResponse = {
    headers: { [name: string]: unknown };
    content: { "application/json": components["schemas"]["ErrorEnvelope"] };
};
export interface operations {
    health_api_health_get: {
        parameters: { query?: never; header?: never; path?: never; cookie?: never };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: { [name: string]: unknown };
                content: { "application/json": components["schemas"]["Envelope_HealthOut_"] };
            };
            503: ErrorResponse;
        };
    };
    login_api_auth_login_post: {
        parameters: { query?: never; header?: never; path?: never; cookie?: never };
        requestBody: { content: { "application/json": components["schemas"]["LoginIn"] } };
        responses: {
            /** @description Successful Response */
            200: {
                headers: { [name: string]: unknown };
                content: { "application/json": components["schemas"]["Envelope_TokenOut_"] };
            };
            401: ErrorResponse;
            422: ErrorResponse;
            429: ErrorResponse;
        };
    };
    refresh_api_auth_refresh_post: {
        parameters: { query?: never; header?: never; path?: never; cookie?: never };
        requestBody: { content: { "application/json": components["schemas"]["RefreshIn"] } };
        responses: {
            /** @description Successful Response */
            200: {
                headers: { [name: string]: unknown };
                content: { "application/json": components["schemas"]["Envelope_TokenOut_"] };
            };
            401: ErrorResponse;
            422: ErrorResponse;
        };
    };
    logout_api_auth_logout_post: {
        parameters: { query?: never; header?: never; path?: never; cookie?: never };
        requestBody: { content: { "application/json": components["schemas"]["LogoutIn"] } };
        responses: {
            /** @description Successful Response */
            200: {
                headers: { [name: string]: unknown };
                content: { "application/json": components["schemas"]["Envelope_LoggedOut_"] };
            };
            401: ErrorResponse;
        };
    };
    me_api_auth_me_get: {
        parameters: { query?: never; header?: never; path?: never; cookie?: never };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: { [name: string]: unknown };
                content: { "application/json": components["schemas"]["Envelope_UserOut_"] };
            };
            401: ErrorResponse;
        };
    };
}
