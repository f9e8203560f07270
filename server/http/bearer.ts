// The token of an `Authorization: Bearer <token>` header (RFC 6750). The scheme's name is
// case-insensitive (RFC 9110 section 11.1), so `bearer` and `BEARER` are read too; spaces around
// the token are not part of it. Whatever follows is the token, checked as such (a malformed one
// is refused for what it is, `invalid_token` where the route says so).
export function bearerToken(header: string | undefined): string | undefined {
  return header?.match(/^Bearer +(.+?) *$/i)?.[1];
}
