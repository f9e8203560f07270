// The token of an `Authorization: Bearer <token>` header (RFC 6750). The scheme's name is
// case-insensitive (RFC 9110 section 11.1), so `bearer` and `BEARER` are read too; spaces around
// the token are not part of it.
export function bearerToken(header: string | undefined): string | undefined {
  return header?.match(/^Bearer +(\S+) *$/i)?.[1];
}
