import type { CommandBase } from "../../lib/domain/actor";
import type { ExternalFailure } from "../../lib/domain/failure";
import type { ReadDoc } from "../../lib/eventlog/projection";

export interface ArtistLink {
  /** What the link is, as the organizer names it: "site", "vk", "telegram"... */
  kind: string;
  url: string;
}

export interface Album {
  id: string;
  title: string;
  year?: number;
  trackCount?: number;
  coverUrl?: string;
}

export interface Track {
  id: string;
  title: string;
  durationMs?: number;
}

export interface Discography {
  /** When the music service was asked (epoch ms). */
  fetchedAt: number;
  albums: Album[];
  popularTracks: Track[];
  coverUrl?: string;
}

/** none: no music id; pending: waiting for the first sync; failed: the last attempt failed. */
export type SyncStatus = "none" | "pending" | "synced" | "failed";

export interface Artist {
  id: string;
  name: string;
  genres: string[];
  links: ArtistLink[];
  /** Yandex Music artist id (digits). */
  yandexMusicId?: string;
  /** Absent when an admin created the artist: then only admins edit it. */
  ownerOrganizerId?: string;
  /** The last successful sync for the current music id; kept when a later sync fails. */
  discography?: Discography;
  /** The last failed sync for the current music id, cleared by a success. */
  syncFailure?: ExternalFailure;
}

export type ArtistState = Artist | null;

/** What an event shows of an artist, loaded by the service from the artist's stream. */
export interface ArtistSnapshot {
  id: string;
  name: string;
}

export interface CreateArtist extends CommandBase {
  type: "CreateArtist";
  id: string;
  name: string;
  genres?: string[];
  links?: ArtistLink[];
  yandexMusicId?: string;
}

/** Absent fields stay as they are; `yandexMusicId: null` unlinks the music catalogue. */
export interface UpdateArtist extends CommandBase {
  type: "UpdateArtist";
  id: string;
  name?: string;
  genres?: string[];
  links?: ArtistLink[];
  yandexMusicId?: string | null;
}

/** Sent by the sync (a system actor with the admin role) with the music id it fetched. */
export interface RecordDiscography extends CommandBase {
  type: "RecordDiscography";
  id: string;
  yandexMusicId: string;
  fetchedAt: number;
  albums: Album[];
  popularTracks: Track[];
  coverUrl?: string;
}

/** A failed sync; `at` is the attempt's time. */
export interface RecordDiscographyFailure extends CommandBase {
  type: "RecordDiscographyFailure";
  id: string;
  yandexMusicId: string;
  code: string;
  message: string;
}

export type ArtistCommand = CreateArtist | UpdateArtist | RecordDiscography | RecordDiscographyFailure;

export interface ArtistCreated {
  type: "ArtistCreated";
  data: Omit<Artist, "discography" | "syncFailure">;
}

/** Carries the changed fields only. */
export interface ArtistUpdated {
  type: "ArtistUpdated";
  data: { id: string; name?: string; genres?: string[]; links?: ArtistLink[] };
}

/** The music id changed: the old discography is dropped and the service starts a new sync. */
export interface ArtistMusicIdChanged {
  type: "ArtistMusicIdChanged";
  data: { id: string; yandexMusicId: string | null };
}

export interface DiscographySynced {
  type: "DiscographySynced";
  data: { id: string; yandexMusicId: string; discography: Discography };
}

export interface DiscographySyncFailed {
  type: "DiscographySyncFailed";
  data: { id: string; yandexMusicId: string; failure: ExternalFailure };
}

export type ArtistEvent = ArtistCreated | ArtistUpdated | ArtistMusicIdChanged | DiscographySynced | DiscographySyncFailed;

export interface ArtistDoc extends ReadDoc {
  id: string;
  name: string;
  /** Lower-cased name for a case-insensitive search (see searchKey). */
  nameKey: string;
  genres: string[];
  links: ArtistLink[];
  yandexMusicId: string | null;
  ownerOrganizerId: string | null;
  discography: Discography | null;
  sync: { status: SyncStatus; syncedAt: number | null; failure: ExternalFailure | null };
  createdAt: number;
  updatedAt: number;
}

export function artistStream(id: string): string {
  return `artist-${id}`;
}
