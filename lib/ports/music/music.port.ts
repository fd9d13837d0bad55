/**
 * An artist's discography from an external music catalogue. The source is unofficial and may
 * break without notice: callers treat every error as "no fresh data" and keep what they had.
 */
import { PortError } from "../http";

export interface ExternalAlbum {
  id: string;
  title: string;
  year?: number;
  trackCount?: number;
  coverUrl?: string;
  genre?: string;
}

export interface ExternalTrack {
  id: string;
  title: string;
  durationMs?: number;
}

export interface ExternalArtist {
  id: string;
  name: string;
  genres: string[];
  coverUrl?: string;
  albums: ExternalAlbum[];
  popularTracks: ExternalTrack[];
}

export interface MusicCatalog {
  /** `null` when the catalogue does not know the artist. */
  getArtist(externalId: string): Promise<ExternalArtist | null>;
}

export type MusicErrorCode = "MUSIC_INVALID_ID" | "MUSIC_UNAUTHORIZED" | "MUSIC_UNAVAILABLE" | "MUSIC_BAD_RESPONSE";

export class MusicError extends PortError<MusicErrorCode> {}

/** The id is not a catalogue id (ours before any request, or the service's 400). */
export class MusicInvalidIdError extends MusicError {
  constructor(message: string, status?: number) {
    super("MUSIC_INVALID_ID", message, false, { status });
  }
}

/** The OAuth token was refused (401/403). */
export class MusicUnauthorizedError extends MusicError {
  constructor(message: string, status: number) {
    super("MUSIC_UNAUTHORIZED", message, false, { status });
  }
}

/** 5xx, 429, timeout or network failure, after the client's single retry. */
export class MusicUnavailableError extends MusicError {
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super("MUSIC_UNAVAILABLE", message, true, options);
  }
}

/** The answer no longer matches what the client knows of the API. */
export class MusicBadResponseError extends MusicError {
  constructor(message: string, status?: number) {
    super("MUSIC_BAD_RESPONSE", message, false, { status });
  }
}
