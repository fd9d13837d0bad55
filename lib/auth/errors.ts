import { errors } from "jose";

const STATUS = {
  TOKEN_MISSING: 401,
  TOKEN_MALFORMED: 401,
  TOKEN_WRONG_TYPE: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_NOT_YET_VALID: 401,
  TOKEN_BAD_ISSUER: 401,
  TOKEN_BAD_AUDIENCE: 401,
  TOKEN_BAD_SIGNATURE: 401,
  TOKEN_ALG_NOT_ALLOWED: 401,
  TOKEN_UNKNOWN_KEY: 401,
  FORBIDDEN: 403,
  // Not the caller's fault: the keys to check the token with cannot be had right now.
  ISSUER_UNAVAILABLE: 503,
} as const;

/** Stable machine-readable reason; clients and dashboards may match on it. */
export type AuthReason = keyof typeof STATUS;

export type AuthStatus = (typeof STATUS)[AuthReason];

/**
 * Every authentication/authorization failure. The message is for humans and never
 * contains the token or its claims (they may hold personal data), nor a jose cause.
 */
export class AuthError extends Error {
  readonly status: AuthStatus;

  constructor(
    readonly reason: AuthReason,
    message: string,
  ) {
    super(message);
    this.name = "AuthError";
    this.status = STATUS[reason];
  }
}

function claimError(err: errors.JWTClaimValidationFailed): AuthError {
  switch (err.claim) {
    case "iss":
      return new AuthError("TOKEN_BAD_ISSUER", "token was issued by an issuer this service does not trust");
    case "aud":
      return err.reason === "missing"
        ? new AuthError("TOKEN_BAD_AUDIENCE", "token has no audience")
        : new AuthError("TOKEN_BAD_AUDIENCE", "token is meant for another audience");
    case "nbf":
      return new AuthError("TOKEN_NOT_YET_VALID", "token is not valid yet");
    default:
      // jose's message names only the claim ("missing required \"sub\" claim").
      return new AuthError("TOKEN_MALFORMED", err.message);
  }
}

/**
 * Translates what jose throws while verifying into an AuthError. Anything else is
 * rethrown untouched: an unexpected error is a bug to see, not a 401 to hide.
 */
export function toAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof errors.JWTExpired) return new AuthError("TOKEN_EXPIRED", "token has expired");
  if (err instanceof errors.JWTClaimValidationFailed) return claimError(err);
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError("TOKEN_BAD_SIGNATURE", "token signature is invalid");
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new AuthError("TOKEN_ALG_NOT_ALLOWED", "token is signed with an algorithm that is not allowed");
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthError("TOKEN_UNKNOWN_KEY", "token is signed with a key the issuer does not publish");
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
    return new AuthError("TOKEN_MALFORMED", "token is not a well-formed signed JWT");
  }
  throw err;
}
