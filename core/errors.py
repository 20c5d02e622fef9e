"""Domain errors: each carries one clear sentence a channel can show or log."""


class DomainError(Exception):
    pass


class IllegalTransition(DomainError):
    pass


class NotFound(DomainError):
    pass


class AlreadyClaimed(DomainError):
    pass


class NotAllowed(DomainError):
    pass


class ConsentRequired(DomainError):
    pass


class InviteInvalid(DomainError):
    pass


class InvalidInput(DomainError):
    pass
