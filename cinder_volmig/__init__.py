# Imported first so that oslo.service runs on threads (see volmig_common).
import volmig_common  # noqa: F401
