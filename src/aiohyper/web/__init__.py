"""The server half of aiohyper: ``from aiohyper import web`` (aiohttp.web's API)."""

from __future__ import annotations

from ._app import (
    AppKey as AppKey,
)
from ._app import (
    Application as Application,
)
from ._app import (
    CleanupError as CleanupError,
)
from ._app import (
    NotAppKeyWarning as NotAppKeyWarning,
)
from ._exceptions import (
    HTTPAccepted as HTTPAccepted,
)
from ._exceptions import (
    HTTPBadGateway as HTTPBadGateway,
)
from ._exceptions import (
    HTTPBadRequest as HTTPBadRequest,
)
from ._exceptions import (
    HTTPClientError as HTTPClientError,
)
from ._exceptions import (
    HTTPConflict as HTTPConflict,
)
from ._exceptions import (
    HTTPCreated as HTTPCreated,
)
from ._exceptions import (
    HTTPError as HTTPError,
)
from ._exceptions import (
    HTTPException as HTTPException,
)
from ._exceptions import (
    HTTPExpectationFailed as HTTPExpectationFailed,
)
from ._exceptions import (
    HTTPFailedDependency as HTTPFailedDependency,
)
from ._exceptions import (
    HTTPForbidden as HTTPForbidden,
)
from ._exceptions import (
    HTTPFound as HTTPFound,
)
from ._exceptions import (
    HTTPGatewayTimeout as HTTPGatewayTimeout,
)
from ._exceptions import (
    HTTPGone as HTTPGone,
)
from ._exceptions import (
    HTTPInsufficientStorage as HTTPInsufficientStorage,
)
from ._exceptions import (
    HTTPInternalServerError as HTTPInternalServerError,
)
from ._exceptions import (
    HTTPLengthRequired as HTTPLengthRequired,
)
from ._exceptions import (
    HTTPMethodNotAllowed as HTTPMethodNotAllowed,
)
from ._exceptions import (
    HTTPMisdirectedRequest as HTTPMisdirectedRequest,
)
from ._exceptions import (
    HTTPMove as HTTPMove,
)
from ._exceptions import (
    HTTPMovedPermanently as HTTPMovedPermanently,
)
from ._exceptions import (
    HTTPMultipleChoices as HTTPMultipleChoices,
)
from ._exceptions import (
    HTTPNetworkAuthenticationRequired as HTTPNetworkAuthenticationRequired,
)
from ._exceptions import (
    HTTPNoContent as HTTPNoContent,
)
from ._exceptions import (
    HTTPNonAuthoritativeInformation as HTTPNonAuthoritativeInformation,
)
from ._exceptions import (
    HTTPNotAcceptable as HTTPNotAcceptable,
)
from ._exceptions import (
    HTTPNotExtended as HTTPNotExtended,
)
from ._exceptions import (
    HTTPNotFound as HTTPNotFound,
)
from ._exceptions import (
    HTTPNotImplemented as HTTPNotImplemented,
)
from ._exceptions import (
    HTTPNotModified as HTTPNotModified,
)
from ._exceptions import (
    HTTPOk as HTTPOk,
)
from ._exceptions import (
    HTTPPartialContent as HTTPPartialContent,
)
from ._exceptions import (
    HTTPPaymentRequired as HTTPPaymentRequired,
)
from ._exceptions import (
    HTTPPermanentRedirect as HTTPPermanentRedirect,
)
from ._exceptions import (
    HTTPPreconditionFailed as HTTPPreconditionFailed,
)
from ._exceptions import (
    HTTPPreconditionRequired as HTTPPreconditionRequired,
)
from ._exceptions import (
    HTTPProxyAuthenticationRequired as HTTPProxyAuthenticationRequired,
)
from ._exceptions import (
    HTTPRedirection as HTTPRedirection,
)
from ._exceptions import (
    HTTPRequestEntityTooLarge as HTTPRequestEntityTooLarge,
)
from ._exceptions import (
    HTTPRequestHeaderFieldsTooLarge as HTTPRequestHeaderFieldsTooLarge,
)
from ._exceptions import (
    HTTPRequestRangeNotSatisfiable as HTTPRequestRangeNotSatisfiable,
)
from ._exceptions import (
    HTTPRequestTimeout as HTTPRequestTimeout,
)
from ._exceptions import (
    HTTPRequestURITooLong as HTTPRequestURITooLong,
)
from ._exceptions import (
    HTTPResetContent as HTTPResetContent,
)
from ._exceptions import (
    HTTPSeeOther as HTTPSeeOther,
)
from ._exceptions import (
    HTTPServerError as HTTPServerError,
)
from ._exceptions import (
    HTTPServiceUnavailable as HTTPServiceUnavailable,
)
from ._exceptions import (
    HTTPSuccessful as HTTPSuccessful,
)
from ._exceptions import (
    HTTPTemporaryRedirect as HTTPTemporaryRedirect,
)
from ._exceptions import (
    HTTPTooManyRequests as HTTPTooManyRequests,
)
from ._exceptions import (
    HTTPUnauthorized as HTTPUnauthorized,
)
from ._exceptions import (
    HTTPUnavailableForLegalReasons as HTTPUnavailableForLegalReasons,
)
from ._exceptions import (
    HTTPUnprocessableEntity as HTTPUnprocessableEntity,
)
from ._exceptions import (
    HTTPUnsupportedMediaType as HTTPUnsupportedMediaType,
)
from ._exceptions import (
    HTTPUpgradeRequired as HTTPUpgradeRequired,
)
from ._exceptions import (
    HTTPUseProxy as HTTPUseProxy,
)
from ._exceptions import (
    HTTPVariantAlsoNegotiates as HTTPVariantAlsoNegotiates,
)
from ._exceptions import (
    HTTPVersionNotSupported as HTTPVersionNotSupported,
)
from ._fileresponse import (
    FileResponse as FileResponse,
)
from ._log import (
    AccessLogger as AccessLogger,
)
from ._middlewares import (
    middleware as middleware,
)
from ._middlewares import (
    normalize_path_middleware as normalize_path_middleware,
)
from ._protocol import (
    PayloadAccessError as PayloadAccessError,
)
from ._protocol import (
    RequestHandler as RequestHandler,
)
from ._protocol import (
    RequestPayloadError as RequestPayloadError,
)
from ._protocol import (
    UpgradedReader as UpgradedReader,
)
from ._request import (
    BaseRequest as BaseRequest,
)
from ._request import (
    FileField as FileField,
)
from ._request import (
    Request as Request,
)
from ._request import (
    parse_forwarded as parse_forwarded,
)
from ._response import (
    ContentCoding as ContentCoding,
)
from ._response import (
    Response as Response,
)
from ._response import (
    StreamResponse as StreamResponse,
)
from ._response import (
    json_response as json_response,
)
from ._routedef import (
    AbstractRouteDef as AbstractRouteDef,
)
from ._routedef import (
    RouteDef as RouteDef,
)
from ._routedef import (
    RouteTableDef as RouteTableDef,
)
from ._routedef import (
    StaticDef as StaticDef,
)
from ._routedef import (
    delete as delete,
)
from ._routedef import (
    get as get,
)
from ._routedef import (
    head as head,
)
from ._routedef import (
    options as options,
)
from ._routedef import (
    patch as patch,
)
from ._routedef import (
    post as post,
)
from ._routedef import (
    put as put,
)
from ._routedef import (
    route as route,
)
from ._routedef import (
    static as static,
)
from ._routedef import (
    view as view,
)
from ._run_app import (
    run_app as run_app,
)
from ._runner import (
    AppRunner as AppRunner,
)
from ._runner import (
    BaseRunner as BaseRunner,
)
from ._runner import (
    BaseSite as BaseSite,
)
from ._runner import (
    GracefulExit as GracefulExit,
)
from ._runner import (
    NamedPipeSite as NamedPipeSite,
)
from ._runner import (
    ServerRunner as ServerRunner,
)
from ._runner import (
    SockSite as SockSite,
)
from ._runner import (
    TCPSite as TCPSite,
)
from ._runner import (
    UnixSite as UnixSite,
)
from ._server import (
    Server as Server,
)
from ._urldispatcher import (
    AbstractResource as AbstractResource,
)
from ._urldispatcher import (
    AbstractRoute as AbstractRoute,
)
from ._urldispatcher import (
    AbstractRuleMatching as AbstractRuleMatching,
)
from ._urldispatcher import (
    Domain as Domain,
)
from ._urldispatcher import (
    DynamicResource as DynamicResource,
)
from ._urldispatcher import (
    MaskDomain as MaskDomain,
)
from ._urldispatcher import (
    MatchedSubAppResource as MatchedSubAppResource,
)
from ._urldispatcher import (
    MatchInfoError as MatchInfoError,
)
from ._urldispatcher import (
    PlainResource as PlainResource,
)
from ._urldispatcher import (
    PrefixedSubAppResource as PrefixedSubAppResource,
)
from ._urldispatcher import (
    PrefixResource as PrefixResource,
)
from ._urldispatcher import (
    Resource as Resource,
)
from ._urldispatcher import (
    ResourceRoute as ResourceRoute,
)
from ._urldispatcher import (
    ResourcesView as ResourcesView,
)
from ._urldispatcher import (
    RoutesView as RoutesView,
)
from ._urldispatcher import (
    StaticResource as StaticResource,
)
from ._urldispatcher import (
    SystemRoute as SystemRoute,
)
from ._urldispatcher import (
    UrlDispatcher as UrlDispatcher,
)
from ._urldispatcher import (
    UrlMappingMatchInfo as UrlMappingMatchInfo,
)
from ._view import (
    View as View,
)

__all__ = (
    "AbstractResource",
    "AbstractRoute",
    "AbstractRouteDef",
    "AbstractRuleMatching",
    "AccessLogger",
    "AppKey",
    "AppRunner",
    "Application",
    "BaseRequest",
    "BaseRunner",
    "BaseSite",
    "CleanupError",
    "ContentCoding",
    "Domain",
    "DynamicResource",
    "FileField",
    "FileResponse",
    "GracefulExit",
    "HTTPAccepted",
    "HTTPBadGateway",
    "HTTPBadRequest",
    "HTTPClientError",
    "HTTPConflict",
    "HTTPCreated",
    "HTTPError",
    "HTTPException",
    "HTTPExpectationFailed",
    "HTTPFailedDependency",
    "HTTPForbidden",
    "HTTPFound",
    "HTTPGatewayTimeout",
    "HTTPGone",
    "HTTPInsufficientStorage",
    "HTTPInternalServerError",
    "HTTPLengthRequired",
    "HTTPMethodNotAllowed",
    "HTTPMisdirectedRequest",
    "HTTPMove",
    "HTTPMovedPermanently",
    "HTTPMultipleChoices",
    "HTTPNetworkAuthenticationRequired",
    "HTTPNoContent",
    "HTTPNonAuthoritativeInformation",
    "HTTPNotAcceptable",
    "HTTPNotExtended",
    "HTTPNotFound",
    "HTTPNotImplemented",
    "HTTPNotModified",
    "HTTPOk",
    "HTTPPartialContent",
    "HTTPPaymentRequired",
    "HTTPPermanentRedirect",
    "HTTPPreconditionFailed",
    "HTTPPreconditionRequired",
    "HTTPProxyAuthenticationRequired",
    "HTTPRedirection",
    "HTTPRequestEntityTooLarge",
    "HTTPRequestHeaderFieldsTooLarge",
    "HTTPRequestRangeNotSatisfiable",
    "HTTPRequestTimeout",
    "HTTPRequestURITooLong",
    "HTTPResetContent",
    "HTTPSeeOther",
    "HTTPServerError",
    "HTTPServiceUnavailable",
    "HTTPSuccessful",
    "HTTPTemporaryRedirect",
    "HTTPTooManyRequests",
    "HTTPUnauthorized",
    "HTTPUnavailableForLegalReasons",
    "HTTPUnprocessableEntity",
    "HTTPUnsupportedMediaType",
    "HTTPUpgradeRequired",
    "HTTPUseProxy",
    "HTTPVariantAlsoNegotiates",
    "HTTPVersionNotSupported",
    "MaskDomain",
    "MatchInfoError",
    "MatchedSubAppResource",
    "NamedPipeSite",
    "NotAppKeyWarning",
    "PayloadAccessError",
    "PlainResource",
    "PrefixResource",
    "PrefixedSubAppResource",
    "Request",
    "RequestHandler",
    "RequestPayloadError",
    "Resource",
    "ResourceRoute",
    "ResourcesView",
    "Response",
    "RouteDef",
    "RouteTableDef",
    "RoutesView",
    "Server",
    "ServerRunner",
    "SockSite",
    "StaticDef",
    "StaticResource",
    "StreamResponse",
    "SystemRoute",
    "TCPSite",
    "UnixSite",
    "UpgradedReader",
    "UrlDispatcher",
    "UrlMappingMatchInfo",
    "View",
    "delete",
    "get",
    "head",
    "json_response",
    "middleware",
    "normalize_path_middleware",
    "options",
    "parse_forwarded",
    "patch",
    "post",
    "put",
    "route",
    "run_app",
    "static",
    "view",
)
