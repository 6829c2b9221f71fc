"""Survey limits: the answers' ranges and the comment's length."""

OVERALL_MIN, OVERALL_MAX = 1, 5
RECOMMEND_MIN, RECOMMEND_MAX = 0, 10
MAX_COMMENT = 2000
SECRET_CHARS = 32  # of the link secret (base64url: 192 bits)
SIGNATURE_CHARS = 32  # of the link's HMAC (base64url: 192 bits)
