"""Domain errors: each carries one clear sentence a channel can show or log."""


class DomainError(Exception):
    """str(error) is a catalogue key (or a plain sentence); values fill its placeholders."""

    def __init__(self, message: str = "", /, **values: object) -> None:
        super().__init__(message)
        self.values = values


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
