"""HTTP handlers for cinemas, movies, showings and ticket checkouts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.mall.cinema import online_repo, repo, service
from app.mall.cinema.schemas import (
    ByMallQuery,
    CinemaIn,
    CinemaPatch,
    MovieIn,
    MoviePatch,
    ShowingIn,
    ShowingPatch,
    ShowingsQuery,
    TicketCheckoutIn,
    TicketOnlinePaymentIn,
    TicketPaymentIn,
)
from app.mall.places import repo as places_repo
from app.platform import idempotency
from app.platform.http import json, no_content, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import PageQuery, decode_cursor, page
from app.platform.state import app_state


@doc(summary="Cinemas of a mall", query=ByMallQuery, tag="cinema")
async def list_cinemas(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, ByMallQuery)
    items = await service.list_cinemas(
        app_state(request), mall_id=q.mall_id, after=decode_cursor(q.cursor), limit=q.limit
    )
    return json(page(items, q.limit, lambda s: (s.created_at, s.id)))


@doc(
    retryable=True,
    summary="Open a cinema in a mall (its admins)",
    body=CinemaIn,
    response=places_repo.Shop,
    status=201,
    tag="cinema",
    errors=(404, 409),
    links={
        "get_cinema": "path.id",
        "update_cinema": "path.id",
        "delete_cinema": "path.id",
        "list_showings_of_day": "query.cinema_id",
    },
)
async def create_cinema(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CinemaIn)
    status, body = await service.create_cinema(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(summary="One cinema", response=places_repo.Shop, tag="cinema")
async def get_cinema(request: Request) -> Response:
    await principal(request)
    return json(await service.get_cinema(app_state(request), path_uuid(request)))


@doc(
    summary="Change a cinema (the mall's admins or its managers)",
    body=CinemaPatch,
    response=places_repo.Shop,
    tag="cinema",
    errors=(409,),
)
async def update_cinema(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CinemaPatch)
    return json(await service.update_cinema(app_state(request), actor=caller, cinema_id=path_uuid(request), data=data))


@doc(summary="Close a cinema, with its showings (the mall's admins)", status=204, tag="cinema")
async def delete_cinema(request: Request) -> Response:
    caller = await principal(request)
    await service.delete_cinema(app_state(request), actor=caller, cinema_id=path_uuid(request))
    return no_content()


@doc(summary="Movies a mall shows", query=ByMallQuery, tag="cinema")
async def list_movies(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, ByMallQuery)
    items = await service.list_movies(
        app_state(request), mall_id=q.mall_id, after=decode_cursor(q.cursor), limit=q.limit
    )
    return json(page(items, q.limit, lambda m: (m.created_at, m.id)))


@doc(
    retryable=True,
    summary="Add a movie (the mall's admins)",
    body=MovieIn,
    response=repo.Movie,
    status=201,
    tag="cinema",
    errors=(404, 409),
    links={"get_movie": "path.id", "update_movie": "path.id", "delete_movie": "path.id"},
)
async def create_movie(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, MovieIn)
    status, body = await service.create_movie(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(summary="One movie", response=repo.Movie, tag="cinema")
async def get_movie(request: Request) -> Response:
    await principal(request)
    return json(await service.get_movie(app_state(request), path_uuid(request)))


@doc(summary="Change a movie (the mall's admins)", body=MoviePatch, response=repo.Movie, tag="cinema", errors=(409,))
async def update_movie(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, MoviePatch)
    return json(await service.update_movie(app_state(request), actor=caller, movie_id=path_uuid(request), data=data))


@doc(summary="Take a movie off, with its showings (the mall's admins)", status=204, tag="cinema")
async def delete_movie(request: Request) -> Response:
    caller = await principal(request)
    await service.delete_movie(app_state(request), actor=caller, movie_id=path_uuid(request))
    return no_content()


@doc(summary="What is on one day at a mall, or in one of its cinemas", query=ShowingsQuery, tag="cinema", errors=(404,))
async def list_showings_of_day(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, ShowingsQuery)
    items = await service.showings_on(app_state(request), mall_id=q.mall_id, cinema_id=q.cinema_id, day=q.date)
    return json({"items": items, "next_cursor": None})


@doc(
    retryable=True,
    summary="Schedule a showing (the mall's admins)",
    body=ShowingIn,
    response=repo.Showing,
    status=201,
    tag="cinema",
    errors=(404, 409),
    links={"get_showing": "path.id", "update_showing": "path.id", "delete_showing": "path.id"},
)
async def create_showing(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ShowingIn)
    status, body = await service.create_showing(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(summary="One showing, with the seats left", response=repo.Showing, tag="cinema")
async def get_showing(request: Request) -> Response:
    await principal(request)
    return json(await service.get_showing(app_state(request), path_uuid(request)))


@doc(
    summary="Move a showing or change its seats (the mall's admins)",
    body=ShowingPatch,
    response=repo.Showing,
    tag="cinema",
    errors=(409,),
)
async def update_showing(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ShowingPatch)
    return json(
        await service.update_showing(app_state(request), actor=caller, showing_id=path_uuid(request), data=data)
    )


@doc(summary="Cancel a showing (the mall's admins)", status=204, tag="cinema")
async def delete_showing(request: Request) -> Response:
    caller = await principal(request)
    await service.delete_showing(app_state(request), actor=caller, showing_id=path_uuid(request))
    return no_content()


@doc(
    retryable=True,
    summary="Reserve seats for a showing, held for 10 minutes while they are paid for at the cinema",
    body=TicketCheckoutIn,
    response=repo.TicketCheckout,
    status=201,
    tag="cinema",
    errors=(404, 409),
)
async def checkout(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, TicketCheckoutIn)
    status, body = await service.checkout(
        app_state(request),
        actor=caller,
        data=data,
        attempt=await idempotency.attempt(request),
    )
    return json(body, status)


@doc(summary="The caller's ticket purchases, newest first", query=PageQuery, tag="cinema")
async def my_checkouts(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, PageQuery)
    items = await service.my_checkouts(app_state(request), actor=caller, after=decode_cursor(q.cursor), limit=q.limit)
    return json(page(items, q.limit, lambda c: (c.created_at, c.id)))


@doc(summary="One ticket checkout (its buyer, or the cinema's staff)", response=repo.TicketCheckout, tag="cinema")
async def get_checkout(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.get_checkout(app_state(request), actor=caller, checkout_id=path_uuid(request)))


@doc(
    summary="Take the money for a reservation at the cinema's counter (its staff): it is paid",
    body=TicketPaymentIn,
    response=repo.TicketCheckout,
    tag="cinema",
    errors=(403, 409),
)
async def pay_checkout(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, TicketPaymentIn)
    paid = await service.pay_checkout(app_state(request), actor=caller, checkout_id=path_uuid(request), data=data)
    return json(paid)


@doc(
    summary="Pay your held reservation online: its intent at the provider you choose, made once and then the same",
    body=TicketOnlinePaymentIn,
    body_optional=True,
    response=online_repo.TicketIntent,
    tag="cinema",
    errors=(403, 404, 409, 503),
    reasons={
        409: "Not held any more, free, or this server takes no online payments through that provider",
        503: "The payment provider could not be reached",
    },
)
async def start_ticket_payment(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, TicketOnlinePaymentIn) if await request.body() else TicketOnlinePaymentIn()
    return json(
        await service.start_online(
            app_state(request), actor=caller, checkout_id=path_uuid(request), provider=data.provider
        )
    )


@doc(
    summary="Let a checkout's seats go: a reservation is cancelled, a paid one refunded (online: to its provider)",
    response=repo.TicketCheckout,
    tag="cinema",
    errors=(403, 409),
)
async def cancel_checkout(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.cancel_checkout(app_state(request), actor=caller, checkout_id=path_uuid(request)))


routes = [
    Route("/v1/cinemas", list_cinemas, methods=["GET"]),
    Route("/v1/cinemas", create_cinema, methods=["POST"]),
    Route("/v1/cinemas/{id}", get_cinema, methods=["GET"]),
    Route("/v1/cinemas/{id}", update_cinema, methods=["PATCH"]),
    Route("/v1/cinemas/{id}", delete_cinema, methods=["DELETE"]),
    Route("/v1/movies", list_movies, methods=["GET"]),
    Route("/v1/movies", create_movie, methods=["POST"]),
    Route("/v1/movies/{id}", get_movie, methods=["GET"]),
    Route("/v1/movies/{id}", update_movie, methods=["PATCH"]),
    Route("/v1/movies/{id}", delete_movie, methods=["DELETE"]),
    Route("/v1/showings", list_showings_of_day, methods=["GET"]),
    Route("/v1/showings", create_showing, methods=["POST"]),
    Route("/v1/showings/{id}", get_showing, methods=["GET"]),
    Route("/v1/showings/{id}", update_showing, methods=["PATCH"]),
    Route("/v1/showings/{id}", delete_showing, methods=["DELETE"]),
    Route("/v1/ticket-checkouts", checkout, methods=["POST"]),
    Route("/v1/ticket-checkouts", my_checkouts, methods=["GET"]),
    Route("/v1/ticket-checkouts/{id}", get_checkout, methods=["GET"]),
    Route("/v1/ticket-checkouts/{id}/payments", pay_checkout, methods=["POST"]),
    Route("/v1/ticket-checkouts/{id}/payment-intent", start_ticket_payment, methods=["POST"]),
    Route("/v1/ticket-checkouts/{id}/cancel", cancel_checkout, methods=["POST"]),
]
