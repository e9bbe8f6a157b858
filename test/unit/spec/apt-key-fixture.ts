/**
 * A throw-away OpenPGP public key (ed25519, made once with gpg for these tests; its private half was never
 * kept), as `gpg --armor --export` and `gpg --export` wrote it: the binary is the reference the
 * dearmored armor must equal.
 */
export const APT_KEY_ARMORED = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaxFSMxYJKwYBBAHaRw8BAQdAm3RT1+sMAKXOevQK479GQyVt4vsT+jT5J/UU
RqnPphq0IHRlbmQgdGVzdCBhcHQgPGFwdEB0ZW5kLmludmFsaWQ+iJAEExYIADgW
IQSYNVgW4pRNSWlMR3AgEyvRkbYSaQUCaxFSMwIbAwULCQgHAgYVCgkICwIEFgID
AQIeAQIXgAAKCRAgEyvRkbYSad9nAQCOJfmAfmY1eWjuuNvdvcgGkQ0vXxaYHISj
im+Fz/lrFgD+OFG+vn17lOl3doZoUZQZ74LOEwZUnWqotMQGyx0qxQs=
=QEKj
-----END PGP PUBLIC KEY BLOCK-----
`;

export const APT_KEY_BINARY = new Uint8Array(Buffer.from('mDMEaxFSMxYJKwYBBAHaRw8BAQdAm3RT1+sMAKXOevQK479GQyVt4vsT+jT5J/UURqnPphq0IHRlbmQgdGVzdCBhcHQgPGFwdEB0ZW5kLmludmFsaWQ+iJAEExYIADgWIQSYNVgW4pRNSWlMR3AgEyvRkbYSaQUCaxFSMwIbAwULCQgHAgYVCgkICwIEFgIDAQIeAQIXgAAKCRAgEyvRkbYSad9nAQCOJfmAfmY1eWjuuNvdvcgGkQ0vXxaYHISjim+Fz/lrFgD+OFG+vn17lOl3doZoUZQZ74LOEwZUnWqotMQGyx0qxQs=', 'base64'));
